package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/pkg/client"
)

// maxSignatureBlobBytes bounds one signature blob read from the registry.
const maxSignatureBlobBytes = 4 << 20

// verifyImage checks the cosign signatures of an image manifest: Sigstore
// bundle referrers and the layers of the legacy sha256-<hex>.sig tag.
func verifyImage(ctx context.Context, c *client.Client, keys *supplychain.Keyring, ref reference) (verifyResult, error) {
	manifestDigest := ref.tag
	if !strings.HasPrefix(manifestDigest, "sha256:") {
		_, desc, err := c.FetchManifest(ctx, ref.repo, ref.tag)
		if err != nil {
			return verifyResult{}, err
		}
		manifestDigest = desc.Digest
	}
	subject, err := digest.Parse(manifestDigest)
	if err != nil {
		return verifyResult{}, usageError{fmt.Errorf("digest of %s: %w", ref, err)}
	}
	result := verifyResult{Subject: ref.String(), Digest: manifestDigest, Signatures: []signatureCheck{}}

	referrers, err := c.Referrers(ctx, ref.repo, manifestDigest, client.ReferrersOptions{})
	if err != nil {
		return verifyResult{}, err
	}
	sources := make([]string, 0, len(referrers)+1)
	for _, r := range referrers {
		sources = append(sources, r.Digest)
	}
	legacy := supplychain.LegacyTagName(subject, supplychain.SuffixSignature)
	if _, desc, err := c.FetchManifest(ctx, ref.repo, legacy); err == nil {
		sources = append(sources, desc.Digest)
	} else if !errors.Is(err, client.ErrNotFound) {
		return verifyResult{}, err
	}
	for _, source := range sources {
		if err := checkSignatureManifest(ctx, c, keys, ref.repo, source, subject, &result); err != nil {
			return verifyResult{}, err
		}
	}

	status, err := c.ArtifactTrust(ctx, manifestDigest)
	result.Server = serverTrust{Signed: status.Signed, Verified: status.Verified}
	if err != nil {
		result.Server = serverTrust{Error: err.Error()}
	}
	return result, nil
}

// checkSignatureManifest verifies the signature layers of one manifest
// and records each; attestations and SBOMs are skipped.
func checkSignatureManifest(ctx context.Context, c *client.Client, keys *supplychain.Keyring, repo, source string, subject digest.Digest, result *verifyResult) error {
	raw, _, err := c.FetchManifest(ctx, repo, source)
	if err != nil {
		return err
	}
	m, err := supplychain.ParseManifest(raw)
	if err != nil {
		recordCheck(result, signatureCheck{Source: source, Format: "unknown"}, nil, err)
		return nil
	}
	for _, item := range supplychain.Classify(m) {
		// A bundle whose manifest does not say what it holds has no kind;
		// it is checked as a signature.
		if item.Kind == supplychain.KindAttestation || item.Kind == supplychain.KindSBOM {
			continue
		}
		check := signatureCheck{Source: source, Format: string(item.Format)}
		blob, err := readBlob(ctx, c, repo, item.Layer.Digest)
		if err != nil {
			recordCheck(result, check, nil, err)
			continue
		}
		switch item.Format {
		case supplychain.FormatCosignSimpleSigning:
			v, err := keys.VerifySimpleSigning(blob, item.Layer.Annotations[supplychain.AnnotationCosignSignature], subject)
			recordCheck(result, check, v, err)
		case supplychain.FormatSigstoreBundle:
			b, err := supplychain.ParseBundle(blob)
			if err != nil {
				recordCheck(result, check, nil, err)
				continue
			}
			v, err := keys.VerifyBundle(b, subject)
			recordCheck(result, check, v, err)
		default:
			recordCheck(result, check, nil, fmt.Errorf("%w: coffer verify checks cosign signatures only", supplychain.ErrUnsupported))
		}
	}
	return nil
}

func readBlob(ctx context.Context, c *client.Client, repo, blobDigest string) ([]byte, error) {
	r, err := c.FetchBlob(ctx, repo, blobDigest, 0)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxSignatureBlobBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", blobDigest, err)
	}
	if len(data) > maxSignatureBlobBytes {
		return nil, fmt.Errorf("blob %s is larger than %d bytes, too large for a signature", blobDigest, maxSignatureBlobBytes)
	}
	return data, nil
}
