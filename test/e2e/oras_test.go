package e2e

import (
	"bytes"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	orasArtifactType = "application/vnd.coffer.e2e.bundle.v1"
	sbomArtifactType = "application/spdx+json"
	titleAnnotation  = "org.opencontainers.image.title"
	// orasDefaultLayerType is the media type oras gives a file pushed without one.
	orasDefaultLayerType = "application/vnd.oci.image.layer.v1.tar"
)

// orasReferrer is one node of `oras discover --format json` output.
type orasReferrer struct {
	descriptor
	Reference string         `json:"reference"`
	Referrers []orasReferrer `json:"referrers"`
}

// TestOrasPushPullAttachDiscover pushes a two-file artifact with oras, pulls it back, copies
// and tags it, attaches an SBOM through the referrers API and deletes the SBOM again.
func TestOrasPushPullAttachDiscover(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.orasLogin()
	tb.craneLogin()

	files := map[string][]byte{
		"readme.txt": randomText(t, 4096),
		"data.bin":   randomBytes(t, 128<<10),
	}
	workDir := t.TempDir()
	for name, content := range files {
		writeFile(t, workDir, name, content)
	}

	// oras only accepts relative file names, so it runs inside the folder with the files.
	ref := srv.ref("e2e/oras:v1")
	pushOutput := tb.must(invocation{dir: workDir, name: "oras", args: []string{
		"push", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", orasArtifactType,
		ref, "readme.txt:text/plain", "data.bin",
	}})
	pushed := decodeJSON[orasReferrer](t, "oras push output", pushOutput)
	digest := pushed.Digest

	// The manifest as served hashes to the pushed digest and lists both files.
	rawManifest := tb.run("oras", "manifest", "fetch", "--plain-http", ref)
	if got := sha256Digest(rawManifest); got != digest {
		t.Fatalf("manifest from oras manifest fetch hashes to %s, oras push reported %s", got, digest)
	}
	m := decodeJSON[manifest](t, "artifact manifest", rawManifest)
	if m.MediaType != mediaTypeImageManifest || m.ArtifactType != orasArtifactType {
		t.Errorf("manifest mediaType, artifactType = %q, %q, expected %q, %q",
			m.MediaType, m.ArtifactType, mediaTypeImageManifest, orasArtifactType)
	}
	checkOrasLayers(t, m.Layers, files)

	// oras pull writes both files back byte for byte.
	pullDir := t.TempDir()
	tb.run("oras", "pull", "--plain-http", "--no-tty", "--output", pullDir, ref)
	for name, content := range files {
		if got := readFile(t, filepath.Join(pullDir, name)); !bytes.Equal(got, content) {
			t.Errorf("pulled %s (%d bytes) differs from the pushed file (%d bytes)", name, len(got), len(content))
		}
	}

	// oras cp gives a byte-identical manifest in another repository.
	copyRef := srv.ref("e2e/oras-copy:v1")
	tb.run("oras", "cp", "--from-plain-http", "--to-plain-http", "--no-tty", ref, copyRef)
	if got := tb.run("oras", "manifest", "fetch", "--plain-http", copyRef); !bytes.Equal(got, rawManifest) {
		t.Errorf("manifest of the copy differs from the original:\ncopy:\n%s\noriginal:\n%s", got, rawManifest)
	}

	tb.run("oras", "tag", "--plain-http", ref, "v2")
	if got := tb.runLines("oras", "repo", "tags", "--plain-http", srv.ref("e2e/oras")); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("oras repo tags e2e/oras = %q, expected [v1 v2]", got)
	}

	sbomDigest := attachSBOM(t, tb, ref)
	checkReferrers(t, tb, ref, digest, []string{sbomDigest})

	// oras falls back to a "sha256-<digest>" tag when the registry lacks the referrers API;
	// the tag list shows that no fallback tag was created.
	if got := tb.runLines("crane", "ls", "--insecure", srv.ref("e2e/oras")); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("crane ls e2e/oras after oras attach = %q, expected [v1 v2] (a sha256-… tag means oras did not use the referrers API)", got)
	}

	// Deleting the SBOM removes it from the referrers of its subject; the subject stays.
	tb.run("oras", "manifest", "delete", "--plain-http", "--force", srv.ref("e2e/oras@"+sbomDigest))
	if got := srv.manifestStatus(t, "e2e/oras", sbomDigest); got != http.StatusNotFound {
		t.Errorf("GET manifest %s after oras manifest delete returned %d, expected 404", sbomDigest, got)
	}
	checkReferrers(t, tb, ref, digest, nil)
	if got := srv.manifestStatus(t, "e2e/oras", digest); got != http.StatusOK {
		t.Errorf("GET manifest of the subject %s after deleting its referrer returned %d, expected 200", digest, got)
	}
}

// checkOrasLayers checks that the layers are the files in the order they were pushed, each
// with its title, media type, digest and size.
func checkOrasLayers(t *testing.T, layers []descriptor, files map[string][]byte) {
	t.Helper()
	want := []struct{ name, mediaType string }{
		{"readme.txt", "text/plain"},
		{"data.bin", orasDefaultLayerType},
	}
	if len(layers) != len(want) {
		t.Fatalf("manifest has %d layers, expected %d", len(layers), len(want))
	}
	for i, layer := range layers {
		name := want[i].name
		if got := layer.Annotations[titleAnnotation]; got != name {
			t.Errorf("layer %d title = %q, expected %q", i, got, name)
		}
		if layer.MediaType != want[i].mediaType {
			t.Errorf("layer %d (%s) mediaType = %q, expected %q", i, name, layer.MediaType, want[i].mediaType)
		}
		if wantDigest := sha256Digest(files[name]); layer.Digest != wantDigest {
			t.Errorf("layer %d (%s) digest = %s, expected %s", i, name, layer.Digest, wantDigest)
		}
		if layer.Size != int64(len(files[name])) {
			t.Errorf("layer %d (%s) size = %d, expected %d", i, name, layer.Size, len(files[name]))
		}
	}
}

// attachSBOM attaches an SPDX document to subject with `oras attach` and returns the digest
// of the new manifest.
func attachSBOM(t *testing.T, tb *toolbox, subject string) string {
	t.Helper()
	dir := t.TempDir()
	sbom := []byte(`{"spdxVersion":"SPDX-2.3","name":"coffer-e2e","documentNamespace":"https://example.invalid/` +
		strings.TrimSpace(string(randomText(t, 16))) + `"}`)
	writeFile(t, dir, "sbom.spdx.json", sbom)

	output := tb.must(invocation{dir: dir, name: "oras", args: []string{
		"attach", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", sbomArtifactType,
		subject, "sbom.spdx.json:" + sbomArtifactType,
	}})
	attached := decodeJSON[orasReferrer](t, "oras attach output", output)
	if attached.Digest == "" {
		t.Fatalf("oras attach printed no digest:\n%s", output)
	}
	return attached.Digest
}

// checkReferrers checks that `oras discover` lists exactly the referrer digests for subject,
// each with the SBOM artifact type.
func checkReferrers(t *testing.T, tb *toolbox, subject, subjectDigest string, wantDigests []string) {
	t.Helper()
	output := tb.run("oras", "discover", "--plain-http", "--format", "json", subject)
	root := decodeJSON[orasReferrer](t, "oras discover output", output)
	if root.Digest != subjectDigest {
		t.Errorf("oras discover subject digest = %s, expected %s", root.Digest, subjectDigest)
	}

	var gotDigests []string
	for _, referrer := range root.Referrers {
		gotDigests = append(gotDigests, referrer.Digest)
		if referrer.ArtifactType != sbomArtifactType {
			t.Errorf("referrer %s artifactType = %q, expected %q", referrer.Digest, referrer.ArtifactType, sbomArtifactType)
		}
		if referrer.MediaType != mediaTypeImageManifest {
			t.Errorf("referrer %s mediaType = %q, expected %q", referrer.Digest, referrer.MediaType, mediaTypeImageManifest)
		}
	}
	if !slices.Equal(gotDigests, wantDigests) {
		t.Errorf("oras discover listed referrers %q, expected %q\n%s", gotDigests, wantDigests, output)
	}
}
