package registry

import (
	"bytes"
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

// manifestKinds maps each accepted media type to whether it is an index.
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

// declaredBlob is a config or layer descriptor of a manifest: the field
// that holds it, the digest and the size it declares.
type declaredBlob struct {
	field  string
	digest digest.Digest
	size   int64
}

// ParseManifest validates a pushed manifest and returns the record to
// store. contentType is the request's Content-Type; it must agree with the
// document's mediaType field when both are present.
func ParseManifest(repo string, d digest.Digest, contentType string, content []byte) (*metadata.Manifest, error) {
	m, _, err := parseManifest(repo, d, contentType, content)
	return m, err
}

// parseManifest is ParseManifest that also returns the blob descriptors
// of an image manifest, whose sizes PutManifest checks.
func parseManifest(repo string, d digest.Digest, contentType string, content []byte) (*metadata.Manifest, []declaredBlob, error) {
	var doc manifestDocument
	if err := json.Unmarshal(content, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: not valid JSON: %w", ErrManifestInvalid, err)
	}
	if err := checkFieldNames(content); err != nil {
		return nil, nil, err
	}
	mediaType, err := resolveMediaType(contentType, doc.MediaType)
	if err != nil {
		return nil, nil, err
	}
	isIndex, known := manifestKinds[mediaType]
	if !known {
		return nil, nil, fmt.Errorf("%w: unsupported media type %q", ErrManifestInvalid, mediaType)
	}
	if doc.SchemaVersion == nil || *doc.SchemaVersion != 2 {
		return nil, nil, fmt.Errorf("%w: schemaVersion must be 2", ErrManifestInvalid)
	}

	m := &metadata.Manifest{
		Repository:   repo,
		Digest:       d,
		MediaType:    mediaType,
		Content:      content,
		ArtifactType: doc.ArtifactType,
		Annotations:  doc.Annotations,
	}
	var blobs []declaredBlob
	if isIndex {
		err = indexReferences(&doc, m)
	} else {
		blobs, err = imageReferences(&doc, m)
	}
	if err != nil {
		return nil, nil, err
	}
	if doc.Subject != nil {
		subject, err := descriptorDigest("subject", *doc.Subject)
		if err != nil {
			return nil, nil, err
		}
		m.Subject = subject
	}
	return m, blobs, nil
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

// imageReferences records the config and layer digests of an image
// manifest in m.Blobs and returns their descriptors.
func imageReferences(doc *manifestDocument, m *metadata.Manifest) ([]declaredBlob, error) {
	if doc.Config == nil {
		return nil, fmt.Errorf("%w: config descriptor is missing", ErrManifestInvalid)
	}
	if doc.Manifests != nil {
		return nil, fmt.Errorf("%w: an image manifest has no manifests field", ErrManifestInvalid)
	}
	config, err := descriptorDigest("config", *doc.Config)
	if err != nil {
		return nil, err
	}
	m.Blobs = append(m.Blobs, config)
	blobs := []declaredBlob{{field: "config", digest: config, size: doc.Config.Size}}
	if m.ArtifactType == "" {
		m.ArtifactType = doc.Config.MediaType
	}
	for i, layer := range doc.Layers {
		field := fmt.Sprintf("layers[%d]", i)
		d, err := descriptorDigest(field, layer)
		if err != nil {
			return nil, err
		}
		if isNonDistributable(layer.MediaType) {
			// Clients may push these layers or keep them elsewhere; the
			// manifest is valid either way.
			continue
		}
		m.Blobs = append(m.Blobs, d)
		blobs = append(blobs, declaredBlob{field: field, digest: d, size: layer.Size})
	}
	return blobs, nil
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

// Field names that ParseManifest reads from a manifest and from each of its
// descriptors.
var (
	documentFields   = []string{"schemaVersion", "mediaType", "artifactType", "config", "layers", "manifests", "subject", "annotations"}
	descriptorFields = []string{"mediaType", "digest", "size", "artifactType", "annotations"}
)

// checkFieldNames rejects a manifest that repeats a field ParseManifest
// reads, or spells one in another case, at the top level or in a
// descriptor. encoding/json matches keys regardless of case and keeps the
// last of repeated keys, while clients in other languages may read another
// value. The references the registry checks and counts must be the ones
// every client pulls.
func checkFieldNames(content []byte) error {
	fields, err := objectFields(content)
	if err != nil {
		return err
	}
	if err := checkObjectFields("manifest", fields, documentFields); err != nil {
		return err
	}
	for _, name := range []string{"config", "subject"} {
		if raw, ok := fields[name]; ok {
			if err := checkDescriptorFields(name, raw); err != nil {
				return err
			}
		}
	}
	for _, name := range []string{"layers", "manifests"} {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw.value, &list); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrManifestInvalid, name, err)
		}
		for i, item := range list {
			if err := checkDescriptorFields(fmt.Sprintf("%s[%d]", name, i), rawField{key: name, value: item}); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkDescriptorFields(path string, raw rawField) error {
	if string(raw.value) == "null" {
		return nil
	}
	fields, err := objectFields(raw.value)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrManifestInvalid, path, err)
	}
	return checkObjectFields(path, fields, descriptorFields)
}

// rawField is one member of a JSON object: its key as written, the value,
// and how many times a key equal to it regardless of case occurred.
type rawField struct {
	key   string
	value json.RawMessage
	count int
}

// objectFields reads the members of a JSON object, indexed by key folded
// to lower case.
func objectFields(data []byte) (map[string]rawField, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if token, err := dec.Token(); err != nil || token != json.Delim('{') {
		return nil, fmt.Errorf("%w: expected a JSON object", ErrManifestInvalid)
	}
	fields := map[string]rawField{}
	for dec.More() {
		token, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrManifestInvalid, err)
		}
		key, _ := token.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrManifestInvalid, err)
		}
		folded := strings.ToLower(key)
		field := fields[folded]
		fields[folded] = rawField{key: key, value: value, count: field.count + 1}
	}
	return fields, nil
}

// checkObjectFields requires each known field to occur at most once and
// spelled exactly. Folding is by strings.EqualFold, which also matches the
// Kelvin sign and the long s as encoding/json does.
func checkObjectFields(path string, fields map[string]rawField, known []string) error {
	for _, field := range fields {
		for _, name := range known {
			if !strings.EqualFold(field.key, name) {
				continue
			}
			if field.count > 1 {
				return fmt.Errorf("%w: %s: field %q occurs more than once", ErrManifestInvalid, path, name)
			}
			if field.key != name {
				return fmt.Errorf("%w: %s: field %q must be spelled %q", ErrManifestInvalid, path, field.key, name)
			}
		}
	}
	return nil
}
