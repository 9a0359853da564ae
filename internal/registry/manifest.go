package registry

import (
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Manifest media types the registry stores and indexes.
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeEmptyJSON      = "application/vnd.oci.empty.v1+json"
)

// manifestKinds tells, for each accepted media type, whether it is an index.
var manifestKinds = map[string]bool{
	MediaTypeOCIManifest:    false,
	MediaTypeDockerManifest: false,
	MediaTypeOCIIndex:       true,
	MediaTypeDockerList:     true,
}

// descriptor is the subset of an OCI descriptor the registry reads.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// manifestDocument covers the fields of image manifests and indexes (OCI
// and Docker schema 2) that the registry validates and indexes.
type manifestDocument struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// ParseManifest validates a pushed manifest and returns the record to
// store. contentType is the request's Content-Type; it must agree with the
// document's mediaType field when both are present.
func ParseManifest(repo string, d digest.Digest, contentType string, content []byte) (*metadata.Manifest, error) {
	var doc manifestDocument
	if err := json.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %w", ErrManifestInvalid, err)
	}
	mediaType, err := resolveMediaType(contentType, doc.MediaType)
	if err != nil {
		return nil, err
	}
	isIndex, known := manifestKinds[mediaType]
	if !known {
		return nil, fmt.Errorf("%w: unsupported media type %q", ErrManifestInvalid, mediaType)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: schemaVersion must be 2", ErrManifestInvalid)
	}

	m := &metadata.Manifest{
		Repository:   repo,
		Digest:       d,
		MediaType:    mediaType,
		Content:      content,
		ArtifactType: doc.ArtifactType,
		Annotations:  doc.Annotations,
	}
	if isIndex {
		err = indexReferences(&doc, m)
	} else {
		err = imageReferences(&doc, m)
	}
	if err != nil {
		return nil, err
	}
	if doc.Subject != nil {
		subject, err := descriptorDigest("subject", *doc.Subject)
		if err != nil {
			return nil, err
		}
		m.Subject = subject
	}
	return m, nil
}

// resolveMediaType picks the manifest's media type from the request header
// and the document, which must agree when both are set.
func resolveMediaType(contentType, field string) (string, error) {
	header := ""
	if contentType != "" {
		parsed, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return "", fmt.Errorf("%w: invalid Content-Type %q", ErrManifestInvalid, contentType)
		}
		header = parsed
	}
	switch {
	case field != "" && header != "" && field != header:
		return "", fmt.Errorf("%w: Content-Type %q does not match mediaType %q", ErrManifestInvalid, header, field)
	case field != "":
		return field, nil
	case header != "":
		return header, nil
	}
	return "", fmt.Errorf("%w: no mediaType field and no Content-Type", ErrManifestInvalid)
}

func imageReferences(doc *manifestDocument, m *metadata.Manifest) error {
	if doc.Config == nil {
		return fmt.Errorf("%w: config descriptor is missing", ErrManifestInvalid)
	}
	if doc.Manifests != nil {
		return fmt.Errorf("%w: an image manifest has no manifests field", ErrManifestInvalid)
	}
	config, err := descriptorDigest("config", *doc.Config)
	if err != nil {
		return err
	}
	m.Blobs = append(m.Blobs, config)
	if m.ArtifactType == "" {
		m.ArtifactType = doc.Config.MediaType
	}
	for i, layer := range doc.Layers {
		d, err := descriptorDigest(fmt.Sprintf("layers[%d]", i), layer)
		if err != nil {
			return err
		}
		if isNonDistributable(layer.MediaType) {
			// Clients may push these layers or keep them elsewhere; the
			// manifest is valid either way.
			continue
		}
		m.Blobs = append(m.Blobs, d)
	}
	return nil
}

func indexReferences(doc *manifestDocument, m *metadata.Manifest) error {
	if doc.Config != nil || doc.Layers != nil {
		return fmt.Errorf("%w: an index has no config or layers", ErrManifestInvalid)
	}
	for i, child := range doc.Manifests {
		d, err := descriptorDigest(fmt.Sprintf("manifests[%d]", i), child)
		if err != nil {
			return err
		}
		m.Children = append(m.Children, d)
	}
	return nil
}

func descriptorDigest(field string, desc descriptor) (digest.Digest, error) {
	d, err := digest.Parse(desc.Digest)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrManifestInvalid, field, err)
	}
	if desc.Size < 0 {
		return "", fmt.Errorf("%w: %s: negative size %d", ErrManifestInvalid, field, desc.Size)
	}
	if desc.MediaType == "" {
		return "", fmt.Errorf("%w: %s: mediaType is missing", ErrManifestInvalid, field)
	}
	return d, nil
}

func isNonDistributable(mediaType string) bool {
	return strings.HasPrefix(mediaType, "application/vnd.oci.image.layer.nondistributable.") ||
		mediaType == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
}
