package e2e

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestRegctlCopyTagsBlobs copies an image and an image index between repositories with
// regctl, reads manifests and a blob back, and deletes a tag.
func TestRegctlCopyTagsBlobs(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	tb.regctlLogin()

	// The source repository holds an image and an index that lists it, both pushed by crane.
	srcImage := srv.ref("e2e/regctl-src:v1")
	srcIndex := srv.ref("e2e/regctl-src:index")
	imageDigest, _, _ := pushRandomImage(t, tb, srcImage)
	indexOutput := tb.runText("crane", "index", "append", "--insecure", "--manifest", srcImage, "--tag", srcIndex)
	_, indexDigest, _ := strings.Cut(indexOutput, "@")
	rawImage := tb.run("crane", "manifest", "--insecure", srcImage)
	rawIndex := tb.run("crane", "manifest", "--insecure", srcIndex)
	if got := sha256Digest(rawIndex); got != indexDigest {
		t.Fatalf("index from crane manifest hashes to %s, crane index append printed %q", got, indexOutput)
	}
	index := decodeJSON[manifest](t, "image index", rawIndex)
	if len(index.Manifests) != 1 || index.Manifests[0].Digest != imageDigest {
		t.Fatalf("index lists %v, expected only the image %s", index.Manifests, imageDigest)
	}

	dstImage := srv.ref("e2e/regctl-dst:v1")
	dstIndex := srv.ref("e2e/regctl-dst:index")
	tb.run("regctl", "image", "copy", srcImage, dstImage)
	tb.run("regctl", "image", "copy", srcIndex, dstIndex)

	if got := tb.runLines("regctl", "tag", "ls", srv.ref("e2e/regctl-dst")); !slices.Equal(got, []string{"index", "v1"}) {
		t.Errorf("regctl tag ls e2e/regctl-dst = %q, expected [index v1]", got)
	}

	// Both copies keep the exact manifest bytes, so their digests match the source.
	if got := tb.run("regctl", "manifest", "get", "--format", "raw-body", dstImage); !bytes.Equal(got, rawImage) {
		t.Errorf("regctl manifest get %s differs from the source manifest:\ncopy:\n%s\nsource:\n%s", dstImage, got, rawImage)
	}
	if got := tb.run("regctl", "manifest", "get", "--format", "raw-body", dstIndex); !bytes.Equal(got, rawIndex) {
		t.Errorf("regctl manifest get %s differs from the source index:\ncopy:\n%s\nsource:\n%s", dstIndex, got, rawIndex)
	}
	if got := tb.runText("regctl", "image", "digest", dstIndex); got != indexDigest {
		t.Errorf("regctl image digest %s = %s, expected %s", dstIndex, got, indexDigest)
	}

	// The copied layer blob is byte-identical to the source blob.
	image := decodeJSON[manifest](t, "image manifest", rawImage)
	if len(image.Layers) != 1 {
		t.Fatalf("image has %d layers, expected 1", len(image.Layers))
	}
	layerDigest := image.Layers[0].Digest
	srcBlob := tb.run("crane", "blob", "--insecure", srv.ref("e2e/regctl-src@"+layerDigest))
	dstBlob := tb.run("regctl", "blob", "get", srv.ref("e2e/regctl-dst"), layerDigest)
	if !bytes.Equal(dstBlob, srcBlob) {
		t.Errorf("regctl blob get %s returned %d bytes that differ from the %d source bytes", layerDigest, len(dstBlob), len(srcBlob))
	}
	if got := sha256Digest(dstBlob); got != layerDigest {
		t.Errorf("regctl blob get %s returned bytes that hash to %s", layerDigest, got)
	}

	// Deleting the index tag keeps the index itself and the other tag.
	tb.run("regctl", "tag", "delete", dstIndex)
	if got := tb.runLines("regctl", "tag", "ls", srv.ref("e2e/regctl-dst")); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("regctl tag ls e2e/regctl-dst after deleting tag index = %q, expected [v1]", got)
	}
	if got := srv.manifestStatus(t, "e2e/regctl-dst", "index"); got != http.StatusNotFound {
		t.Errorf("GET manifest by the deleted tag returned %d, expected 404", got)
	}
	if got := srv.manifestStatus(t, "e2e/regctl-dst", indexDigest); got != http.StatusOK {
		t.Errorf("GET index %s by digest after deleting its tag returned %d, expected 200", indexDigest, got)
	}
	if got := tb.runText("regctl", "image", "digest", dstImage); got != imageDigest {
		t.Errorf("regctl image digest %s after the tag delete = %s, expected %s", dstImage, got, imageDigest)
	}
}
