package e2e

import (
	"bytes"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
)

// TestCranePushPullCopyDelete pushes a random one-layer image with crane, reads every part of
// it back, copies and tags it, and deletes it by tag and by digest.
func TestCranePushPullCopyDelete(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()

	ref := srv.ref("e2e/crane:v1")
	digest, layer, payload := pushRandomImage(t, tb, ref)

	// The manifest as served hashes to the digest crane computed before the push.
	rawManifest := tb.run("crane", "manifest", "--insecure", ref)
	if got := sha256Digest(rawManifest); got != digest {
		t.Fatalf("manifest from crane manifest hashes to %s, crane append pushed %s", got, digest)
	}
	if got := tb.runText("crane", "digest", "--insecure", ref); got != digest {
		t.Errorf("crane digest %s = %s, expected %s", ref, got, digest)
	}
	m := decodeJSON[manifest](t, "image manifest", rawManifest)
	if m.MediaType != mediaTypeImageManifest {
		t.Errorf("manifest mediaType = %q, expected %q", m.MediaType, mediaTypeImageManifest)
	}
	if len(m.Layers) != 1 {
		t.Fatalf("manifest has %d layers, expected 1:\n%s", len(m.Layers), rawManifest)
	}

	// The layer blob is the gzip stream crane pushed, and it unpacks to the tar built here.
	blob := tb.run("crane", "blob", "--insecure", srv.ref("e2e/crane@"+m.Layers[0].Digest))
	if got := sha256Digest(blob); got != m.Layers[0].Digest {
		t.Errorf("layer blob hashes to %s, manifest lists %s", got, m.Layers[0].Digest)
	}
	if int64(len(blob)) != m.Layers[0].Size {
		t.Errorf("layer blob is %d bytes, manifest lists %d", len(blob), m.Layers[0].Size)
	}
	if !bytes.Equal(gunzip(t, blob), layer) {
		t.Errorf("layer blob does not unpack to the tar archive that was pushed")
	}

	// The config blob matches its descriptor and names the uncompressed layer.
	rawConfig := tb.run("crane", "config", "--insecure", ref)
	if got := sha256Digest(rawConfig); got != m.Config.Digest {
		t.Errorf("config hashes to %s, manifest lists %s", got, m.Config.Digest)
	}
	config := decodeJSON[imageConfig](t, "image config", rawConfig)
	if want := []string{sha256Digest(layer)}; !slices.Equal(config.RootFS.DiffIDs, want) {
		t.Errorf("config rootfs.diff_ids = %v, expected %v", config.RootFS.DiffIDs, want)
	}

	// crane export flattens the image into a file system tar that holds the random file.
	exportPath := filepath.Join(t.TempDir(), "export.tar")
	tb.run("crane", "export", "--insecure", ref, exportPath)
	if got := tarFiles(t, readFile(t, exportPath)); !bytes.Equal(got["payload.bin"], payload) || len(got) != 1 {
		t.Errorf("crane export wrote files %v, expected only payload.bin with the pushed content", fileNames(got))
	}
	tb.run("crane", "validate", "--insecure", "--remote", ref)

	// crane copy gives a byte-identical manifest in another repository.
	copyRef := srv.ref("e2e/crane-copy:v1")
	tb.run("crane", "copy", "--insecure", ref, copyRef)
	if got := tb.run("crane", "manifest", "--insecure", copyRef); !bytes.Equal(got, rawManifest) {
		t.Errorf("manifest of the copy differs from the original:\ncopy:\n%s\noriginal:\n%s", got, rawManifest)
	}
	if got := tb.runLines("crane", "ls", "--insecure", srv.ref("e2e/crane-copy")); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("crane ls e2e/crane-copy = %q, expected [v1]", got)
	}

	// crane tag adds a second tag to the same manifest.
	tb.run("crane", "tag", "--insecure", ref, "v2")
	if got := tb.runLines("crane", "ls", "--insecure", srv.ref("e2e/crane")); !slices.Equal(got, []string{"v1", "v2"}) {
		t.Errorf("crane ls e2e/crane after crane tag = %q, expected [v1 v2]", got)
	}
	if got := tb.runText("crane", "digest", "--insecure", srv.ref("e2e/crane:v2")); got != digest {
		t.Errorf("crane digest e2e/crane:v2 = %s, expected %s", got, digest)
	}

	// Deleting a tag removes only that tag.
	tb.run("crane", "delete", "--insecure", srv.ref("e2e/crane:v2"))
	if got := tb.runLines("crane", "ls", "--insecure", srv.ref("e2e/crane")); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("crane ls e2e/crane after deleting tag v2 = %q, expected [v1]", got)
	}
	if got := tb.runText("crane", "digest", "--insecure", ref); got != digest {
		t.Errorf("crane digest %s after deleting tag v2 = %s, expected %s", ref, got, digest)
	}

	// Deleting the manifest by digest makes it unreachable by digest and by its tag. The copy
	// in the other repository stays.
	tb.run("crane", "delete", "--insecure", srv.ref("e2e/crane@"+digest))
	stderr := tb.mustFail("crane", "manifest", "--insecure", srv.ref("e2e/crane@"+digest))
	t.Logf("crane manifest of the deleted digest failed as expected: %s", stderr)
	if got := srv.manifestStatus(t, "e2e/crane", digest); got != http.StatusNotFound {
		t.Errorf("GET manifest %s after crane delete returned %d, expected 404", digest, got)
	}
	if got := srv.manifestStatus(t, "e2e/crane", "v1"); got != http.StatusNotFound {
		t.Errorf("GET manifest by tag v1 after its manifest was deleted returned %d, expected 404", got)
	}
	if got := srv.manifestStatus(t, "e2e/crane-copy", "v1"); got != http.StatusOK {
		t.Errorf("GET manifest e2e/crane-copy:v1 after deleting the original returned %d, expected 200", got)
	}
}

func fileNames(files map[string][]byte) []string {
	return slices.Sorted(maps.Keys(files))
}
