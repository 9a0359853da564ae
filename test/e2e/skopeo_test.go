package e2e

import (
	"bytes"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
)

// skopeoListTags is the output of `skopeo list-tags`.
type skopeoListTags struct {
	Repository string   `json:"Repository"`
	Tags       []string `json:"Tags"`
}

// TestSkopeoCopyInspectDelete copies an image from the registry into a local folder and back
// into another repository with skopeo, lists tags, compares the raw manifest and deletes it.
func TestSkopeoCopyInspectDelete(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	creds := rootUser + ":" + rootPassword

	srcRef := srv.ref("e2e/skopeo-src:v1")
	digest, _, _ := pushRandomImage(t, tb, srcRef)
	rawManifest := tb.run("crane", "manifest", "--insecure", srcRef)

	// Registry to folder: skopeo's dir: format keeps the manifest bytes as the registry sent them.
	imageDir := filepath.Join(t.TempDir(), "image")
	tb.run("skopeo", "--insecure-policy", "copy", "--preserve-digests",
		"--src-tls-verify=false", "--src-creds", creds,
		"docker://"+srcRef, "dir:"+imageDir)
	if got := readFile(t, filepath.Join(imageDir, "manifest.json")); !bytes.Equal(got, rawManifest) {
		t.Fatalf("manifest.json written by skopeo differs from the pushed manifest:\ngot:\n%s\npushed:\n%s", got, rawManifest)
	}

	// Folder to registry, then registry to registry under a second tag.
	dstRef := srv.ref("e2e/skopeo-dst:v1")
	tb.run("skopeo", "--insecure-policy", "copy", "--preserve-digests",
		"--dest-tls-verify=false", "--dest-creds", creds,
		"dir:"+imageDir, "docker://"+dstRef)
	tb.run("skopeo", "--insecure-policy", "copy", "--preserve-digests",
		"--src-tls-verify=false", "--src-creds", creds,
		"--dest-tls-verify=false", "--dest-creds", creds,
		"docker://"+dstRef, "docker://"+srv.ref("e2e/skopeo-dst:v2"))

	output := tb.run("skopeo", "list-tags", "--tls-verify=false", "--creds", creds, "docker://"+srv.ref("e2e/skopeo-dst"))
	listed := decodeJSON[skopeoListTags](t, "skopeo list-tags output", output)
	if !slices.Equal(listed.Tags, []string{"v1", "v2"}) {
		t.Errorf("skopeo list-tags e2e/skopeo-dst = %q, expected [v1 v2]", listed.Tags)
	}

	for _, tag := range []string{"v1", "v2"} {
		ref := "docker://" + srv.ref("e2e/skopeo-dst:"+tag)
		if got := tb.run("skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds, ref); !bytes.Equal(got, rawManifest) {
			t.Errorf("skopeo inspect --raw %s differs from the pushed manifest:\ngot:\n%s\npushed:\n%s", ref, got, rawManifest)
		}
	}

	// skopeo delete resolves the tag and deletes the manifest by digest, so both tags lose it;
	// the source repository keeps its own copy.
	tb.run("skopeo", "delete", "--tls-verify=false", "--creds", creds, "docker://"+dstRef)
	tb.mustFail("skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds, "docker://"+dstRef)
	if got := srv.manifestStatus(t, "e2e/skopeo-dst", digest); got != http.StatusNotFound {
		t.Errorf("GET manifest %s after skopeo delete returned %d, expected 404", digest, got)
	}
	if got := srv.manifestStatus(t, "e2e/skopeo-dst", "v2"); got != http.StatusNotFound {
		t.Errorf("GET manifest by tag v2 after skopeo delete of its manifest returned %d, expected 404", got)
	}
	if got := srv.manifestStatus(t, "e2e/skopeo-src", "v1"); got != http.StatusOK {
		t.Errorf("GET manifest e2e/skopeo-src:v1 after deleting the copy returned %d, expected 200", got)
	}
}
