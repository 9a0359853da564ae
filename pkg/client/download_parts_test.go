package client_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/cofferhq/coffer/pkg/client"
)

const testPartSize = 1 << 20

// partsObject uploads an object of a little over five parts and returns
// its content.
func partsObject(t *testing.T, c *client.Client, bucket string) []byte {
	t.Helper()
	content := randomBytes(t, 5*testPartSize+123)
	if _, err := c.PutObject(t.Context(), bucket, "f", bytes.NewReader(content), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return content
}

// partialOf returns the partial file that a download of content to path
// uses.
func partialOf(path string, content []byte) string {
	sum := sha256.Sum256(content)
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".coffer-"+hex.EncodeToString(sum[:])[:16]+".part")
}

func rangesOf(requests []*http.Request) []string {
	var ranges []string
	for _, r := range requests {
		ranges = append(ranges, r.Header.Get("Range"))
	}
	sort.Strings(ranges)
	return ranges
}

func TestDownloadFileParallelParts(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := partsObject(t, c, bucket)

	var cut atomic.Bool
	ft := &faultTransport{cutResponse: func(req *http.Request, _ int) int64 {
		if req.Header.Get("Range") == "bytes=2097152-3145727" && cut.CompareAndSwap(false, true) {
			return 100 << 10
		}
		return -1
	}}
	reader := newClient(t, ft, client.Options{})
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	var last atomic.Int64
	_, err := reader.DownloadFile(t.Context(), bucket, "f", path, client.DownloadOptions{
		Parallel: 3, PartSize: testPartSize, Progress: func(n int64) { last.Store(n) },
	})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("downloaded %d bytes (%v) that differ from the %d uploaded", len(got), err, len(content))
	}
	gets := ft.requestsMatching(http.MethodGet, "/objects/f")
	want := []string{
		"bytes=0-1048575", "bytes=1048576-2097151", "bytes=2097152-3145727", "bytes=2199552-3145727",
		"bytes=3145728-4194303", "bytes=4194304-5242879", "bytes=5242880-5243002",
	}
	if got := rangesOf(gets); !slices.Equal(got, want) {
		t.Errorf("ranges %q, want %q: six parts and the rest of the cut one", got, want)
	}
	for _, r := range gets {
		if m := r.Header.Get("If-Match"); m != `"`+digestOf(content)+`"` {
			t.Errorf("part %s If-Match = %q, want the digest", r.Header.Get("Range"), m)
		}
	}
	if n := last.Load(); n != int64(len(content)) {
		t.Errorf("last progress %d, want %d", n, len(content))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder has %d entries after the download, want only the file", len(entries))
	}
}

// writePartial writes a partial file of content's size that holds the
// given parts of content and zeros elsewhere, and its part list.
func writePartial(t *testing.T, path string, content []byte, list string, parts ...int) {
	t.Helper()
	data := make([]byte, len(content))
	for _, i := range parts {
		start := i * testPartSize
		copy(data[start:min(start+testPartSize, len(data))], content[start:])
	}
	partial := partialOf(path, content)
	if err := os.WriteFile(partial, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(partial+".done", []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadFileParallelResumes(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := partsObject(t, c, bucket)
	path := filepath.Join(t.TempDir(), "f")
	// The list names parts 0 and 2, a part the object does not have and a
	// line cut short by a kill.
	writePartial(t, path, content, "0\n2\n9\n3x", 0, 2)

	ft := &faultTransport{}
	reader := newClient(t, ft, client.Options{})
	if _, err := reader.DownloadFile(t.Context(), bucket, "f", path, client.DownloadOptions{Parallel: 2, PartSize: testPartSize}); err != nil {
		t.Fatalf("resumed download: %v", err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, content) {
		t.Error("the resumed download differs from the upload")
	}
	want := []string{"bytes=1048576-2097151", "bytes=3145728-4194303", "bytes=4194304-5242879", "bytes=5242880-5243002"}
	if got := rangesOf(ft.requestsMatching(http.MethodGet, "/objects/f")); !slices.Equal(got, want) {
		t.Errorf("ranges %q, want only the missing parts %q", got, want)
	}
}

func TestDownloadFileParallelAfterInOrder(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := partsObject(t, c, bucket)
	path := filepath.Join(t.TempDir(), "f")
	// An in-order download stopped after two and a half parts.
	if err := os.WriteFile(partialOf(path, content), content[:5*testPartSize/2], 0o644); err != nil {
		t.Fatal(err)
	}

	ft := &faultTransport{}
	reader := newClient(t, ft, client.Options{})
	if _, err := reader.DownloadFile(t.Context(), bucket, "f", path, client.DownloadOptions{Parallel: 4, PartSize: testPartSize}); err != nil {
		t.Fatalf("download: %v", err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, content) {
		t.Error("the download differs from the upload")
	}
	if gets := ft.requestsMatching(http.MethodGet, "/objects/f"); len(gets) != 4 {
		t.Errorf("%d GET requests %q, want 4 for parts 2 to 5", len(gets), rangesOf(gets))
	}
}

func TestDownloadFileParallelBadPart(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := partsObject(t, c, bucket)
	path := filepath.Join(t.TempDir(), "f")
	// Part 1 is listed as done but holds zeros.
	writePartial(t, path, content, "0\n1\n", 0)

	opts := client.DownloadOptions{Parallel: 4, PartSize: testPartSize}
	_, err := c.DownloadFile(t.Context(), bucket, "f", path, opts)
	if !errors.Is(err, client.ErrIntegrity) {
		t.Fatalf("download over a bad part: %v, want ErrIntegrity", err)
	}
	partial := partialOf(path, content)
	for _, leftover := range []string{path, partial, partial + ".done"} {
		if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after the failed check: %v", filepath.Base(leftover), err)
		}
	}
	if _, err := c.DownloadFile(t.Context(), bucket, "f", path, opts); err != nil {
		t.Fatalf("download after the failed check: %v", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, content) {
		t.Error("the second download differs from the upload")
	}
}
