package registry_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/registry"
)

const (
	ociManifest = registry.MediaTypeOCIManifest
	ociIndex    = registry.MediaTypeOCIIndex
	configType  = "application/vnd.oci.image.config.v1+json"
	layerType   = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// digestOf returns a distinct valid digest for each label.
func digestOf(label string) digest.Digest { return digest.SHA256.FromBytes([]byte(label)) }

// desc formats a descriptor of the given media type.
func desc(mediaType, label string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":10}`, mediaType, digestOf(label))
}

func parse(contentType, content string) (*registryManifest, error) {
	m, err := registry.ParseManifest("repo", digest.SHA256.FromBytes([]byte(content)), contentType, []byte(content))
	if err != nil {
		return nil, err
	}
	return &registryManifest{m.MediaType, m.ArtifactType, m.Subject, m.Blobs, m.Children, m.Annotations, string(m.Content)}, nil
}

// registryManifest is the part of metadata.Manifest that ParseManifest fills.
type registryManifest struct {
	mediaType    string
	artifactType string
	subject      digest.Digest
	blobs        []digest.Digest
	children     []digest.Digest
	annotations  map[string]string
	content      string
}

func TestParseManifestImage(t *testing.T) {
	content := `{"schemaVersion":2,"mediaType":"` + ociManifest + `","config":` + desc(configType, "config") +
		`,"layers":[` + desc(layerType, "l1") + `,` + desc("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "foreign") +
		`,` + desc(layerType, "l2") + `],"annotations":{"a":"1"}}`
	m, err := parse(ociManifest+"; charset=utf-8", content)
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	if m.mediaType != ociManifest {
		t.Errorf("media type = %q", m.mediaType)
	}
	if m.artifactType != configType {
		t.Errorf("artifact type = %q, want the config media type %q", m.artifactType, configType)
	}
	if want := []digest.Digest{digestOf("config"), digestOf("l1"), digestOf("l2")}; !slices.Equal(m.blobs, want) {
		t.Errorf("blobs = %q, want %q without the non-distributable layer", m.blobs, want)
	}
	if len(m.children) != 0 || m.subject != "" {
		t.Errorf("children %q, subject %q, want none", m.children, m.subject)
	}
	if m.annotations["a"] != "1" || m.content != content {
		t.Errorf("annotations %v, content %q", m.annotations, m.content)
	}
}

func TestParseManifestArtifactAndIndex(t *testing.T) {
	artifact := `{"schemaVersion":2,"mediaType":"` + ociManifest + `","artifactType":"application/vnd.example",` +
		`"config":` + desc("application/vnd.oci.empty.v1+json", "{}") + `,"layers":[],"subject":` + desc(ociManifest, "subject") + `}`
	m, err := parse("", artifact)
	if err != nil {
		t.Fatalf("ParseManifest artifact: %v", err)
	}
	if m.artifactType != "application/vnd.example" || m.subject != digestOf("subject") {
		t.Errorf("artifact type %q, subject %q", m.artifactType, m.subject)
	}

	index := `{"schemaVersion":2,"manifests":[` + desc(ociManifest, "c1") + `,` + desc(ociManifest, "c2") + `]}`
	m, err = parse(ociIndex, index)
	if err != nil {
		t.Fatalf("ParseManifest index: %v", err)
	}
	if m.mediaType != ociIndex || m.artifactType != "" || len(m.blobs) != 0 {
		t.Errorf("index: media type %q, artifact type %q, blobs %q", m.mediaType, m.artifactType, m.blobs)
	}
	if want := []digest.Digest{digestOf("c1"), digestOf("c2")}; !slices.Equal(m.children, want) {
		t.Errorf("children = %q, want %q", m.children, want)
	}

	docker := `{"schemaVersion":2,"mediaType":"` + registry.MediaTypeDockerManifest + `","config":` +
		desc("application/vnd.docker.container.image.v1+json", "dc") + `,"layers":[` +
		desc("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "windows") + `]}`
	m, err = parse(registry.MediaTypeDockerManifest, docker)
	if err != nil {
		t.Fatalf("ParseManifest docker: %v", err)
	}
	if want := []digest.Digest{digestOf("dc")}; !slices.Equal(m.blobs, want) {
		t.Errorf("docker blobs = %q, want %q without the foreign layer", m.blobs, want)
	}
}

func TestParseManifestRejects(t *testing.T) {
	image := func(fields string) string {
		return `{"schemaVersion":2,"mediaType":"` + ociManifest + `"` + fields + `}`
	}
	config := `,"config":` + desc(configType, "config")
	cases := []struct {
		name, contentType, content string
	}{
		{"invalid JSON", ociManifest, `{"schemaVersion":2`},
		{"array", ociManifest, `[]`},
		{"null", ociManifest, `null`},
		{"no media type", "", `{"schemaVersion":2}`},
		{"unknown media type", "application/json", `{"schemaVersion":2}`},
		{"invalid Content-Type", "a/b; =", image(config)},
		{"Content-Type disagrees", registry.MediaTypeDockerManifest, image(config)},
		{"no schema version", "", `{"mediaType":"` + ociManifest + `"` + config + `}`},
		{"schema version 1", "", `{"schemaVersion":1,"mediaType":"` + ociManifest + `"` + config + `}`},
		{"schema version as string", "", `{"schemaVersion":"2","mediaType":"` + ociManifest + `"` + config + `}`},
		{"no config", "", image("")},
		{"image with manifests", "", image(config + `,"manifests":[]`)},
		{"index with config", ociIndex, `{"schemaVersion":2` + config + `}`},
		{"index with layers", ociIndex, `{"schemaVersion":2,"layers":[]}`},
		{"malformed layer digest", "", image(config + `,"layers":[{"mediaType":"` + layerType + `","digest":"sha256:abc","size":1}]`)},
		{"unsupported layer digest", "", image(config + `,"layers":[{"mediaType":"` + layerType + `","digest":"md5:abc","size":1}]`)},
		{"negative size", "", image(config + `,"layers":[{"mediaType":"` + layerType + `","digest":"` + string(digestOf("x")) + `","size":-1}]`)},
		{"descriptor without media type", "", image(config + `,"layers":[{"digest":"` + string(digestOf("x")) + `","size":1}]`)},
		{"malformed child digest", ociIndex, `{"schemaVersion":2,"manifests":[{"mediaType":"` + ociManifest + `","digest":"sha256:zz","size":1}]}`},
		{"malformed subject", "", image(config + `,"subject":{"mediaType":"` + ociManifest + `","digest":"x","size":1}}`)},

		// Go's encoding/json matches keys regardless of case and keeps the
		// last of repeated keys. Clients that read these documents
		// differently would pull layers the registry never checked.
		{"field in other case", "", image(config + `,"layers":[` + desc(layerType, "checked") + `],"Layers":[]`)},
		{"field with a long s", "", image(config + `,"layers":[` + desc(layerType, "checked") + `],"layerſ":[]`)},
		{"repeated field", "", image(config + `,"layers":[` + desc(layerType, "checked") + `],"layers":[]`)},
		{"descriptor field in other case", "", image(`,"config":{"mediaType":"` + configType + `","digest":"` +
			string(digestOf("a")) + `","Digest":"` + string(digestOf("b")) + `","size":1}`)},
	}
	for _, c := range cases {
		m, err := parse(c.contentType, c.content)
		if !errors.Is(err, registry.ErrManifestInvalid) {
			t.Errorf("%s: ParseManifest = %+v, %v; want ErrManifestInvalid", c.name, m, err)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	config := desc(configType, "config")
	for _, seed := range []struct{ contentType, content string }{
		{ociManifest, `{"schemaVersion":2,"mediaType":"` + ociManifest + `","config":` + config + `,"layers":[` + desc(layerType, "l") + `]}`},
		{"", `{"schemaVersion":2,"mediaType":"` + ociIndex + `","manifests":[` + desc(ociManifest, "c") + `]}`},
		{registry.MediaTypeDockerManifest, `{"schemaVersion":2,"config":` + config + `,"subject":` + desc(ociManifest, "s") + `}`},
		{registry.MediaTypeDockerList, `{"schemaVersion":2,"manifests":[]}`},
		{"", `{"schemaVersion":2,"mediaType":"x"}`},
		{"a/b; =", `[]`},
		{"", `{"SchemaVersion":2,"MEDIATYPE":"` + ociIndex + `"}`},
	} {
		f.Add(seed.contentType, []byte(seed.content))
	}
	f.Fuzz(func(t *testing.T, contentType string, content []byte) {
		d := digest.SHA256.FromBytes(content)
		m, err := registry.ParseManifest("repo", d, contentType, content)
		if err != nil {
			if !errors.Is(err, registry.ErrManifestInvalid) {
				t.Fatalf("ParseManifest error %v does not wrap ErrManifestInvalid", err)
			}
			return
		}
		switch m.MediaType {
		case registry.MediaTypeOCIManifest, registry.MediaTypeDockerManifest:
			if len(m.Blobs) == 0 || len(m.Children) != 0 {
				t.Fatalf("image manifest with blobs %q and children %q", m.Blobs, m.Children)
			}
		case registry.MediaTypeOCIIndex, registry.MediaTypeDockerList:
			if len(m.Blobs) != 0 {
				t.Fatalf("index with blobs %q", m.Blobs)
			}
		default:
			t.Fatalf("accepted media type %q", m.MediaType)
		}
		references := append(slices.Clone(m.Blobs), m.Children...)
		if m.Subject != "" {
			references = append(references, m.Subject)
		}
		for _, ref := range references {
			if _, err := digest.Parse(string(ref)); err != nil {
				t.Fatalf("accepted manifest references invalid digest %q: %v", ref, err)
			}
		}
		if m.Digest != d || m.Repository != "repo" || !bytes.Equal(m.Content, content) {
			t.Fatalf("record does not keep digest, repository and content: %+v", m)
		}
	})
}
