package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/pkg/client"
)

// errNotVerified is the outcome of coffer verify when no signature
// verifies; it exits with ExitNotVerified.
var errNotVerified = errors.New("not verified")

// verifyFlags are the flags of coffer verify.
type verifyFlags struct {
	keys []string
}

// verifyResult is the output of coffer verify.
type verifyResult struct {
	// Subject is the argument: s3://bucket/key or the image reference.
	Subject string `json:"subject"`
	// Digest is the object's current content digest or the manifest digest.
	Digest string `json:"digest"`
	// Verified is set when at least one signature verified with a key.
	Verified   bool             `json:"verified"`
	Signatures []signatureCheck `json:"signatures"`
	// Server is the server's own trust status of the digest.
	Server serverTrust `json:"server"`
}

// signatureCheck is the local verification of one signature.
type signatureCheck struct {
	// Source is the attachment digest or the signature manifest digest.
	Source   string `json:"source"`
	Format   string `json:"format"`
	Verified bool   `json:"verified"`
	Signer   string `json:"signer,omitempty"`
	Error    string `json:"error,omitempty"`
}

// serverTrust is the server's verdict, from its trust stores.
type serverTrust struct {
	Signed   bool   `json:"signed"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

func newVerifyCommand(a *app) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --key FILE s3://bucket/key | REPOSITORY[:TAG|@DIGEST]",
		Short: "Verify the signatures of an object or image locally with a public key",
		Long: `Check the signatures of an object's current content, or of an image, here on
this machine with the public keys of --key, and show the server's trust status
beside the result.

For an object the signatures are the Sigstore bundles attached to it (coffer
sign, or cosign sign-blob --bundle with coffer attach); a bundle made for
content the object no longer has does not verify. For an image they are
the cosign signatures that name its manifest: Sigstore bundle referrers and
the legacy sha256-<hex>.sig tag.

The exit code is 0 when at least one signature verifies, and 8 when none
does, with the reason for each signature in the output.`,
		Example: `  coffer verify --key cosign.pub s3://reports/2026/report.bin
  coffer verify --key cosign.pub -o json demo/app:1.0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := loadPublicKeys(f.keys)
			if err != nil {
				return err
			}
			c, err := a.newClient(cmd.Context())
			if err != nil {
				return err
			}
			var result verifyResult
			if strings.HasPrefix(args[0], remotePrefix) {
				l, err := parseRemote(args[0], true)
				if err != nil {
					return err
				}
				result, err = verifyObject(cmd.Context(), c, keys, l)
				if err != nil {
					return err
				}
			} else {
				ref, err := parseReference(args[0], a.settings.Server, false)
				if err != nil {
					return err
				}
				result, err = verifyImage(cmd.Context(), c, keys, ref)
				if err != nil {
					return err
				}
			}
			return a.printVerifyResult(result)
		},
	}
	cmd.Flags().StringArrayVar(&f.keys, "key", nil, "PEM public key file, such as cosign.pub; repeat for more (required)")
	return cmd
}

// loadPublicKeys reads the --key files into a keyring; each key is named
// by its file name.
func loadPublicKeys(paths []string) (*supplychain.Keyring, error) {
	if len(paths) == 0 {
		return nil, usageError{errors.New("--key is required: the public key file, such as cosign.pub")}
	}
	keys := &supplychain.Keyring{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, usageError{fmt.Errorf("read --key: %w", err)}
		}
		key, err := supplychain.ParsePublicKey(filepath.Base(path), data)
		if err != nil {
			return nil, usageError{err}
		}
		keys.Keys = append(keys.Keys, key)
	}
	return keys, nil
}

func (a *app) printVerifyResult(r verifyResult) error {
	if a.jsonOutput() {
		if err := a.printJSON(r); err != nil {
			return err
		}
	} else {
		w := a.streams.Out
		fmt.Fprintf(w, "Subject:  %s\nDigest:   %s\n", r.Subject, r.Digest)
		for _, s := range r.Signatures {
			fmt.Fprintf(w, "signature  %s  %s  %s\n", s.Source, s.Format, verdict(s.Verified, s.Signer, s.Error))
		}
		fmt.Fprintf(w, "Verified: %s\n", yesNo(r.Verified))
		if r.Server.Error != "" {
			fmt.Fprintf(w, "Server:   trust status unavailable: %s\n", r.Server.Error)
		} else {
			fmt.Fprintf(w, "Server:   signed %s, verified %s\n", yesNo(r.Server.Signed), yesNo(r.Server.Verified))
		}
	}
	if r.Verified {
		return nil
	}
	if len(r.Signatures) == 0 {
		return fmt.Errorf("%s is %w: it has no signatures", r.Subject, errNotVerified)
	}
	return fmt.Errorf("%s is %w: no signature verifies with the given keys", r.Subject, errNotVerified)
}

// verifyObject checks the Sigstore bundles attached to an object against
// its current content digest.
func verifyObject(ctx context.Context, c *client.Client, keys *supplychain.Keyring, l location) (verifyResult, error) {
	obj, err := c.StatObject(ctx, l.bucket, l.key)
	if err != nil {
		return verifyResult{}, err
	}
	current, err := digest.Parse(obj.Digest)
	if err != nil {
		return verifyResult{}, fmt.Errorf("digest of %s: %w", l, err)
	}
	attachments, err := c.Attachments(ctx, l.bucket, l.key)
	if err != nil {
		return verifyResult{}, err
	}

	result := verifyResult{Subject: l.String(), Digest: obj.Digest, Signatures: []signatureCheck{}}
	// content is downloaded on first need: only Ed25519 message
	// signatures, which sign the content itself, need it.
	var content []byte
	for _, att := range attachments {
		if !isBundleMediaType(att.MediaType) {
			continue
		}
		check := signatureCheck{Source: att.Digest, Format: string(supplychain.FormatSigstoreBundle)}
		b, err := readAttachedBundle(ctx, c, l, att.Digest)
		var v *supplychain.Verified
		if err == nil {
			v, err = keys.VerifyBundle(b, current)
		}
		if errors.Is(err, supplychain.ErrUnsupported) && b != nil && b.MessageSignature != nil && obj.Size <= maxContentSignBytes {
			if content == nil {
				content, err = downloadVerified(ctx, c, l, obj)
			}
			if content != nil {
				v, err = keys.VerifyBundleContent(b, content)
			}
		}
		recordCheck(&result, check, v, err)
	}

	status, err := c.ObjectTrust(ctx, l.bucket, l.key)
	result.Server = serverTrust{Signed: status.Signed, Verified: status.Verified}
	if err != nil {
		result.Server = serverTrust{Error: err.Error()}
	}
	return result, nil
}

// recordCheck adds one signature's outcome to the result.
func recordCheck(result *verifyResult, check signatureCheck, v *supplychain.Verified, err error) {
	if err != nil {
		check.Error = err.Error()
	} else {
		check.Verified, check.Signer = true, v.Signer
		result.Verified = true
	}
	result.Signatures = append(result.Signatures, check)
}

func isBundleMediaType(mediaType string) bool {
	base := supplychain.BaseMediaType(mediaType)
	return base == supplychain.MediaTypeSigstoreBundleV03 || base == supplychain.MediaTypeSigstoreBundle
}

func readAttachedBundle(ctx context.Context, c *client.Client, l location, attachment string) (*supplychain.Bundle, error) {
	r, err := c.OpenAttachment(ctx, l.bucket, l.key, attachment)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, client.MaxAttachmentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read attachment %s: %w", attachment, err)
	}
	return supplychain.ParseBundle(data)
}

// downloadVerified downloads the object's content and checks that it is
// still the content whose digest the verification uses.
func downloadVerified(ctx context.Context, c *client.Client, l location, obj client.Object) ([]byte, error) {
	r, err := c.GetObject(ctx, l.bucket, l.key, client.GetOptions{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	content, err := io.ReadAll(io.LimitReader(r, maxContentSignBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", l, err)
	}
	if got := digest.Canonical.FromBytes(content).String(); got != obj.Digest {
		return nil, fmt.Errorf("%s changed to %s during the verification; run coffer verify again: %w", l, got, client.ErrConflict)
	}
	return content, nil
}
