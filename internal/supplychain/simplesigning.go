package supplychain

import (
	"encoding/json"
	"fmt"

	"github.com/cofferhq/coffer/internal/digest"
)

// SimpleSigning is the payload that cosign's legacy signatures sign.
type SimpleSigning struct {
	// DockerReference is the repository the signer named.
	DockerReference string
	// ManifestDigest is the signed manifest's digest.
	ManifestDigest digest.Digest
}

type simpleSigningJSON struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
}

const simpleSigningType = "cosign container image signature"

// ParseSimpleSigning decodes a simple-signing payload and checks its type
// and the signed digest.
func ParseSimpleSigning(payload []byte) (*SimpleSigning, error) {
	if err := checkSize("simple-signing payload", len(payload)); err != nil {
		return nil, err
	}
	var raw simpleSigningJSON
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w simple-signing payload: %w", ErrMalformed, err)
	}
	if raw.Critical.Type != simpleSigningType {
		return nil, fmt.Errorf("%w simple-signing payload: critical.type %q is not %q", ErrMalformed, raw.Critical.Type, simpleSigningType)
	}
	d, err := digest.Parse(raw.Critical.Image.DockerManifestDigest)
	if err != nil {
		return nil, fmt.Errorf("%w simple-signing payload: critical.image.docker-manifest-digest: %w", ErrMalformed, err)
	}
	return &SimpleSigning{DockerReference: raw.Critical.Identity.DockerReference, ManifestDigest: d}, nil
}
