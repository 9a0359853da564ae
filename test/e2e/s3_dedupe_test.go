package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestS3DedupeWithOCIBlobs pushes an image layer with crane, uploads the same bytes as two S3
// objects with the AWS CLI, and checks that the storage folder holds the bytes in exactly
// one file, the content-addressed blob of the layer. It runs over plain HTTP only, since
// the storage layout does not depend on the transport.
func TestS3DedupeWithOCIBlobs(t *testing.T) {
	srv := startS3Server(t, false)
	tb := newToolbox(t, srv)
	tb.craneLogin()

	ref := srv.ref("e2e/dedupe:v1")
	pushRandomImage(t, tb, ref)
	pushed := decodeJSON[manifest](t, "image manifest", tb.run("crane", "manifest", "--insecure", ref))
	if len(pushed.Layers) != 1 {
		t.Fatalf("manifest has %d layers, expected 1", len(pushed.Layers))
	}
	layerDigest := pushed.Layers[0].Digest
	layer := tb.run("crane", "blob", "--insecure", srv.ref("e2e/dedupe@"+layerDigest))

	c := newCLI(t, srv, awsEnv(t, srv, false))
	c.aws("s3", "mb", "s3://dedupe-bucket")
	path := writeFile(t, t.TempDir(), "layer.tar.gz", layer)
	for _, key := range []string{"layer.tar.gz", "copy/of/layer.tar.gz"} {
		c.aws("s3", "cp", "--only-show-errors", path, "s3://dedupe-bucket/"+key)
		download := filepath.Join(t.TempDir(), "download")
		c.aws("s3", "cp", "--only-show-errors", "s3://dedupe-bucket/"+key, download)
		if got := readFile(t, download); !bytes.Equal(got, layer) {
			t.Errorf("S3 object %s has SHA-256 %s, expected the layer's %s", key, sha256Hex(got), layerDigest)
		}
	}

	storageRoot := filepath.Join(srv.dataDir, "storage")
	copies := filesWithContent(t, storageRoot, layer)
	hexDigest := strings.TrimPrefix(layerDigest, "sha256:")
	want := filepath.Join(storageRoot, "blobs", "sha256", hexDigest[:2], hexDigest)
	if len(copies) != 1 || copies[0] != want {
		t.Errorf("storage holds the layer bytes in %q, expected only in %s", copies, want)
	}
}

// filesWithContent returns the paths of the files under root whose bytes equal data.
func filesWithContent(t *testing.T, root string, data []byte) []string {
	t.Helper()
	wantSum := sha256Hex(data)
	var paths []string
	err := filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		if info.Size() == int64(len(data)) && fileSHA256(t, path) == wantSum {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return paths
}
