package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/pkg/client"
)

// signFlags are the flags of coffer sign.
type signFlags struct {
	key    string
	bundle string
}

// maxContentSignBytes bounds the objects signed with an Ed25519 key, which
// signs the whole content and so holds it in memory.
const maxContentSignBytes = 256 << 20

// signResult is the JSON output of coffer sign.
type signResult struct {
	Object     string `json:"object"`
	Digest     string `json:"digest"`
	Attachment string `json:"attachment"`
	MediaType  string `json:"media_type"`
	KeyHint    string `json:"key_hint"`
	Bundle     string `json:"bundle,omitempty"`
}

func newSignCommand(a *app) *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{
		Use:   "sign --key FILE s3://bucket/key",
		Short: "Sign an object's content and attach the signature",
		Long: `Sign an object's current content as cosign sign-blob --key FILE --bundle does,
and attach the Sigstore bundle (v0.3, a message signature over the content's
SHA-256 digest) to the object. The server then lists it in coffer trust.

The key is a PEM private key: PKCS #8 or SEC 1 with ECDSA P-256, PKCS #8 with
Ed25519, or the encrypted key that cosign generate-key-pair writes. The
password of an encrypted key comes from COSIGN_PASSWORD or, on a terminal,
from a prompt; without either an empty password is tried. An ECDSA key
signs the digest that the server reports; an Ed25519 key signs the content
itself, so the object is downloaded and may be at most 256 MiB.`,
		Example: `  COSIGN_PASSWORD=... coffer sign --key cosign.key s3://reports/2026/report.bin
  coffer verify --key cosign.pub s3://reports/2026/report.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseRemote(args[0], true)
			if err != nil {
				return err
			}
			if f.key == "" {
				return usageError{errors.New("--key is required: the private key file, such as cosign.key")}
			}
			signer, err := a.loadSigner(f.key)
			if err != nil {
				return err
			}
			c, err := a.newClient(cmd.Context())
			if err != nil {
				return err
			}
			return a.sign(cmd, c, l, signer, f)
		},
	}
	cmd.Flags().StringVar(&f.key, "key", "", "private key file: PEM PKCS #8, SEC 1 or a cosign encrypted key (required)")
	cmd.Flags().StringVar(&f.bundle, "bundle", "", "also write the Sigstore bundle to this file")
	return cmd
}

func (a *app) sign(cmd *cobra.Command, c *client.Client, l location, signer supplychain.Signer, f signFlags) error {
	ctx := cmd.Context()
	obj, err := c.StatObject(ctx, l.bucket, l.key)
	if err != nil {
		return err
	}
	signed, bundle, err := signObject(cmd, c, l, obj, signer)
	if err != nil {
		return err
	}

	att, err := c.Attach(ctx, l.bucket, l.key, supplychain.MediaTypeSigstoreBundleV03, bundle, client.AttachOptions{})
	if err != nil {
		return fmt.Errorf("attach the signature of %s: %w", l, err)
	}
	if att.Subject != signed {
		// The object was replaced between the signing and the attach, so
		// the signature is for content the object no longer has.
		_ = c.DeleteAttachment(ctx, l.bucket, l.key, att.Digest)
		return fmt.Errorf("%s changed from %s to %s while it was signed; run coffer sign again: %w", l, signed, att.Subject, client.ErrConflict)
	}

	if f.bundle != "" {
		if err := os.WriteFile(f.bundle, bundle, 0o644); err != nil { //nolint:gosec // a signature bundle is public, like cosign.pub
			return fmt.Errorf("write the bundle: %w", err)
		}
	}
	_, hint, err := supplychain.PublicKeyPEM(signer)
	if err != nil {
		return err
	}
	result := signResult{Object: l.String(), Digest: signed, Attachment: att.Digest, MediaType: att.MediaType, KeyHint: hint, Bundle: f.bundle}
	if a.jsonOutput() {
		return a.printJSON(result)
	}
	fmt.Fprintf(a.streams.Out, "signed %s (%s)\nattachment %s\n", result.Object, result.Digest, result.Attachment)
	return nil
}

// signObject returns the signed digest and the Sigstore bundle of the
// object's content.
func signObject(cmd *cobra.Command, c *client.Client, l location, obj client.Object, signer supplychain.Signer) (string, []byte, error) {
	if !supplychain.IsEd25519(signer) {
		d, err := digest.Parse(obj.Digest)
		if err != nil {
			return "", nil, fmt.Errorf("digest of %s: %w", l, err)
		}
		bundle, err := supplychain.NewBlobBundle(signer, d)
		return obj.Digest, bundle, err
	}
	if obj.Size > maxContentSignBytes {
		return "", nil, fmt.Errorf("%s has %d bytes; an Ed25519 key signs the whole content, which is limited to %d bytes here; use an ECDSA P-256 key", l, obj.Size, maxContentSignBytes)
	}
	content, err := readObject(cmd, c, l, obj.Size)
	if err != nil {
		return "", nil, err
	}
	bundle, err := supplychain.NewContentBundle(signer, content)
	return digest.Canonical.FromBytes(content).String(), bundle, err
}

// readObject downloads an object's content into memory; the client
// checks it against the object's digest.
func readObject(cmd *cobra.Command, c *client.Client, l location, size int64) ([]byte, error) {
	r, err := c.GetObject(cmd.Context(), l.bucket, l.key, client.GetOptions{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	content, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", l, err)
	}
	return content, nil
}

// loadSigner reads a private key file, asking for the password of a
// cosign encrypted key.
func (a *app) loadSigner(path string) (supplychain.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("read --key: %w", err)}
	}
	fromEnv := a.streams.Getenv("COSIGN_PASSWORD") != ""
	signer, err := supplychain.ParseSigner(filepath.Base(path), data, a.cosignPassword)
	if errors.Is(err, supplychain.ErrWrongPassword) && !fromEnv {
		return nil, usageError{fmt.Errorf("%w; set COSIGN_PASSWORD to the key's password", err)}
	}
	if err != nil {
		return nil, usageError{err}
	}
	return signer, nil
}

// cosignPassword returns COSIGN_PASSWORD, or reads the password from a
// prompt on a terminal, or returns an empty password.
func (a *app) cosignPassword() ([]byte, error) {
	if password := a.streams.Getenv("COSIGN_PASSWORD"); password != "" {
		return []byte(password), nil
	}
	if a.streams.ReadPassword == nil {
		return []byte{}, nil
	}
	return a.streams.ReadPassword("Enter password for private key: ")
}

// terminalPasswordReader returns a function that reads a password from standard input without echo when
// it is a terminal, writing the prompt to standard error. It returns nil
// when standard input is not a terminal.
func terminalPasswordReader() func(string) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return func(prompt string) ([]byte, error) {
		fmt.Fprint(os.Stderr, prompt)
		password, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read the key's password: %w", err)
		}
		return password, nil
	}
}
