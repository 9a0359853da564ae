package attachments

import (
	"fmt"
	"mime"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/supplychain"
)

type descriptorJSON struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
}

type manifestJSON struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        descriptorJSON    `json:"config"`
	Layers        []descriptorJSON  `json:"layers"`
	Subject       *descriptorJSON   `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// artifactTypeFor checks that mediaType is a supply-chain document the
// trust status recognises and returns the artifact type to record:
// requested when set, else the media type itself.
func artifactTypeFor(mediaType, requested string) (string, error) {
	if mediaType == "" {
		return "", fmt.Errorf("%w: the media type is missing; send it as Content-Type", ErrInvalid)
	}
	if _, _, err := mime.ParseMediaType(mediaType); err != nil {
		return "", fmt.Errorf("%w: media type %q: %w", ErrInvalid, mediaType, err)
	}
	artifactType := requested
	if artifactType == "" {
		artifactType = mediaType
	}
	if _, _, err := mime.ParseMediaType(artifactType); err != nil {
		return "", fmt.Errorf("%w: artifact type %q: %w", ErrInvalid, artifactType, err)
	}
	probe := &supplychain.Manifest{ArtifactType: artifactType, Layers: []supplychain.Descriptor{{MediaType: mediaType}}}
	if len(supplychain.Classify(probe)) == 0 {
		return "", fmt.Errorf("%w: media type %q is not a signature, SBOM or attestation format; use a Sigstore bundle "+
			"(%s), a DSSE envelope (%s), an in-toto statement (%s), SPDX (%s, %s) or CycloneDX (%s, %s)",
			ErrInvalid, mediaType, supplychain.MediaTypeSigstoreBundleV03, supplychain.MediaTypeDSSE, supplychain.MediaTypeInToto,
			supplychain.MediaTypeSPDXJSON, supplychain.MediaTypeSPDXTagValue, supplychain.MediaTypeCycloneDXJSON, supplychain.MediaTypeCycloneDXXML)
	}
	return artifactType, nil
}

// attachmentOf reads an attachment back from its stored manifest.
func attachmentOf(m *metadata.Manifest) (*Attachment, error) {
	parsed, err := supplychain.ParseManifest(m.Content)
	if err != nil {
		return nil, fmt.Errorf("attachment %s in %s: %w", m.Digest, m.Repository, err)
	}
	if len(parsed.Layers) != 1 {
		return nil, fmt.Errorf("attachment %s in %s has %d layers, not 1", m.Digest, m.Repository, len(parsed.Layers))
	}
	layer := parsed.Layers[0]
	document, err := digest.Parse(layer.Digest)
	if err != nil {
		return nil, fmt.Errorf("attachment %s in %s: layer digest: %w", m.Digest, m.Repository, err)
	}
	created, _ := time.Parse(time.RFC3339Nano, parsed.Annotations[AnnotationCreated])
	if created.IsZero() {
		created = m.Created
	}
	return &Attachment{
		Digest:       m.Digest,
		Subject:      m.Subject,
		ArtifactType: parsed.ArtifactType,
		MediaType:    layer.MediaType,
		Document:     document,
		Size:         layer.Size,
		Repository:   m.Repository,
		Created:      created,
	}, nil
}
