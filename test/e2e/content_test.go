package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Media types that the tests expect in manifests pushed by the clients.
const (
	mediaTypeImageManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeImageIndex    = "application/vnd.oci.image.index.v1+json"
)

// descriptor is the part of an OCI content descriptor that the tests check.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// manifest is the part of an OCI image manifest or image index that the tests check.
type manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	ArtifactType  string       `json:"artifactType,omitempty"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
	Manifests     []descriptor `json:"manifests"`
	Subject       *descriptor  `json:"subject,omitempty"`
}

// imageConfig is the part of an OCI image configuration that the tests check.
type imageConfig struct {
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		t.Fatalf("read %d random bytes: %v", n, err)
	}
	return data
}

// randomText returns n random lower-case hex characters followed by a newline.
func randomText(t *testing.T, n int) []byte {
	t.Helper()
	return []byte(hex.EncodeToString(randomBytes(t, (n+1)/2))[:n] + "\n")
}

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// writeFile writes data to name inside dir and returns the file's path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}

// layerTar builds an uncompressed tar archive with one regular file per entry, in name order
// and with a fixed modification time, so the same files always give the same bytes.
func layerTar(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	writer := tar.NewWriter(&buf)
	modTime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		header := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Mode:     0o644,
			Size:     int64(len(files[name])),
			ModTime:  modTime,
		}
		if err := writer.WriteHeader(header); err != nil {
			t.Fatalf("write tar header for %s: %v", name, err)
		}
		if _, err := writer.Write(files[name]); err != nil {
			t.Fatalf("write tar content of %s: %v", name, err)
		}
	}
	if err := writer.Close(); err != nil {
		t.Fatalf("close tar archive: %v", err)
	}
	return buf.Bytes()
}

// tarFiles reads the regular files of a tar archive into a map from name to content.
func tarFiles(t *testing.T, archive []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	reader := tar.NewReader(bytes.NewReader(archive))
	for {
		header, err := reader.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("read tar archive: %v", err)
		}
		if header.Typeflag != tar.TypeReg {
			continue
		}
		content, err := io.ReadAll(reader)
		if err != nil {
			t.Fatalf("read %s from tar archive: %v", header.Name, err)
		}
		files[strings.TrimPrefix(header.Name, "./")] = content
	}
}

func gunzip(t *testing.T, compressed []byte) []byte {
	t.Helper()
	reader, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatalf("open gzip stream: %v", err)
	}
	data, err := io.ReadAll(reader)
	if err != nil {
		t.Fatalf("decompress gzip stream: %v", err)
	}
	return data
}

// decodeJSON decodes data into a new value of type T and fails the test on invalid JSON.
func decodeJSON[T any](t *testing.T, description string, data []byte) T {
	t.Helper()
	var value T
	if err := json.Unmarshal(data, &value); err != nil {
		t.Fatalf("decode %s: %v\n%s", description, err, data)
	}
	return value
}

// pushRandomImage pushes a one-layer OCI image with a random file to reference with
// `crane append` and returns the manifest digest, the uncompressed layer and the file.
func pushRandomImage(t *testing.T, tb *toolbox, reference string) (digest string, layer, payload []byte) {
	t.Helper()
	payload = randomBytes(t, 256<<10)
	layer = layerTar(t, map[string][]byte{"payload.bin": payload})
	layerPath := writeFile(t, t.TempDir(), "layer.tar", layer)

	pushed := tb.runText("crane", "append", "--insecure", "--oci-empty-base", "--new_layer", layerPath, "--new_tag", reference)
	repository, digest, found := strings.Cut(pushed, "@")
	if !found {
		t.Fatalf("crane append printed %q, expected REPOSITORY@DIGEST", pushed)
	}
	// The tag follows the last colon, since the port's colon comes before the first slash.
	if wantRepository := reference[:strings.LastIndex(reference, ":")]; repository != wantRepository {
		t.Fatalf("crane append printed repository %q, expected %q", repository, wantRepository)
	}
	return digest, layer, payload
}
