package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/pkg/client"
)

func TestObjectLifecycle(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	ctx := t.Context()
	bucket := newBucket(t, c)
	content := []byte("hello, coffer")

	put, err := c.PutObject(ctx, bucket, "dir/hello.txt", bytes.NewReader(content), client.PutOptions{ContentType: "text/plain"})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if put.Digest != digestOf(content) || put.Size != int64(len(content)) {
		t.Errorf("put returned %+v, want digest %s and size %d", put, digestOf(content), len(content))
	}

	stat, err := c.StatObject(ctx, bucket, "dir/hello.txt")
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if stat.Digest != put.Digest || stat.Size != put.Size || stat.ContentType != "text/plain" {
		t.Errorf("stat returned %+v, want the put object %+v", stat, put)
	}

	r, err := c.GetObject(ctx, bucket, "dir/hello.txt", client.GetOptions{})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Errorf("get returned %q, %v; want %q", got, err, content)
	}

	copied, err := c.CopyObject(ctx, bucket, "dir/hello.txt", bucket, "copy.txt")
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	if copied.Digest != put.Digest || copied.ContentType != "text/plain" {
		t.Errorf("copy returned %+v, want digest %s and text/plain", copied, put.Digest)
	}

	if err := c.DeleteObject(ctx, bucket, "dir/hello.txt"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.StatObject(ctx, bucket, "dir/hello.txt")
	if !errors.Is(err, client.ErrNotFound) {
		t.Errorf("stat after delete: %v, want ErrNotFound", err)
	}
	var httpErr *client.Error
	if !errors.As(err, &httpErr) || httpErr.StatusCode != http.StatusNotFound {
		t.Errorf("stat after delete: %#v, want an *Error with status 404", err)
	}
}

func TestListPagination(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	ctx := t.Context()
	bucket := newBucket(t, c)
	keys := []string{"a/1", "a/2", "b/1", "c", "d"}
	for _, key := range keys {
		if _, err := c.PutObject(ctx, bucket, key, strings.NewReader(key), client.PutOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}

	var listed []string
	for o, err := range c.AllObjects(ctx, bucket, client.ListOptions{Limit: 2}) {
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		listed = append(listed, o.Key)
	}
	if strings.Join(listed, ",") != strings.Join(keys, ",") {
		t.Errorf("listed %v, want %v", listed, keys)
	}

	page, err := c.ListObjects(ctx, bucket, client.ListOptions{Delimiter: "/"})
	if err != nil {
		t.Fatalf("list with delimiter: %v", err)
	}
	if strings.Join(page.CommonPrefixes, ",") != "a/,b/" || len(page.Items) != 2 {
		t.Errorf("delimiter listing: prefixes %v, %d items; want a/,b/ and 2", page.CommonPrefixes, len(page.Items))
	}
}

func TestBucketErrors(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	ctx := t.Context()
	bucket := newBucket(t, c)
	if err := c.CreateBucket(ctx, bucket); !errors.Is(err, client.ErrConflict) {
		t.Errorf("create existing bucket: %v, want ErrConflict", err)
	}
	if _, err := c.PutObject(ctx, bucket, "k", strings.NewReader("x"), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBucket(ctx, bucket, client.DeleteBucketOptions{}); !errors.Is(err, client.ErrConflict) {
		t.Errorf("delete non-empty bucket: %v, want ErrConflict", err)
	}
	if err := c.DeleteBucket(ctx, bucket, client.DeleteBucketOptions{Recursive: true}); err != nil {
		t.Errorf("delete recursively: %v", err)
	}
	buckets, err := c.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		if b.Name == bucket {
			t.Errorf("bucket %s still listed after delete", bucket)
		}
	}
	if err := c.CreateBucket(ctx, "Invalid_Name"); !errors.Is(err, client.ErrInvalidRequest) {
		t.Errorf("create invalid bucket: %v, want ErrInvalidRequest", err)
	}

	wrong := newClient(t, nil, client.Options{Auth: client.Basic{Username: rootUser, Password: "wrong"}})
	if _, err := wrong.Buckets(ctx); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("wrong password: %v, want ErrUnauthorized", err)
	}
}

func TestPutDigestMismatch(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	_, err := c.PutObject(t.Context(), bucket, "k", strings.NewReader("content"), client.PutOptions{Digest: digestOf([]byte("other"))})
	if !errors.Is(err, client.ErrIntegrity) {
		t.Errorf("put with a wrong digest: %v, want ErrIntegrity", err)
	}
}

// TestUploadResumesAfterBrokenChunk fails one chunk of a resumable upload
// with a network error after its body was sent, so the server holds the
// chunk while the client does not know it.
func TestUploadResumesAfterBrokenChunk(t *testing.T) {
	ft := &faultTransport{}
	var patches int
	ft.fail = func(req *http.Request, n int) (*http.Response, error) {
		if req.Method != http.MethodPatch {
			return nil, nil
		}
		patches++
		if patches == 3 {
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err == nil {
				drainBody(resp)
			}
			return nil, errors.New("connection reset after the chunk was sent")
		}
		return nil, nil
	}
	c := newClient(t, ft, client.Options{ChunkSize: 64 << 10})
	bucket := newBucket(t, c)
	content := randomBytes(t, 5*64<<10+123)

	o, err := c.PutObject(t.Context(), bucket, "big", bytes.NewReader(content), client.PutOptions{})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if o.Digest != digestOf(content) || o.Size != int64(len(content)) {
		t.Errorf("put returned %+v, want digest %s size %d", o, digestOf(content), len(content))
	}
	if heads := ft.requestsMatching(http.MethodHead, "/api/v1/uploads/"); len(heads) != 1 {
		t.Errorf("%d offset requests, want 1 after the broken chunk", len(heads))
	}
	if sent := ft.sentBytes.Load(); sent > int64(len(content))+2*64<<10 {
		t.Errorf("sent %d bytes for %d of content, want at most one chunk more", sent, len(content))
	}
}

// TestUploadResumesSession continues a session that an earlier call left
// behind, as after a crash, and sends only the missing bytes.
func TestUploadResumesSession(t *testing.T) {
	c := newClient(t, nil, client.Options{ChunkSize: 64 << 10})
	bucket := newBucket(t, c)
	content := randomBytes(t, 8*64<<10)

	ctx, cancel := context.WithCancel(t.Context())
	var session string
	_, err := c.PutObject(ctx, bucket, "big", bytes.NewReader(content), client.PutOptions{
		OnSession: func(id string) { session = id },
		Progress: func(n int64) {
			if n > int64(len(content))/2 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) || session == "" {
		t.Fatalf("first put: %v, session %q; want context.Canceled and a session", err, session)
	}

	ft := &faultTransport{}
	resumer := newClient(t, ft, client.Options{ChunkSize: 64 << 10})
	var first int64 = -1
	o, err := resumer.PutObject(t.Context(), bucket, "big", bytes.NewReader(content), client.PutOptions{
		SessionID: session,
		Progress: func(n int64) {
			if first < 0 {
				first = n
			}
		},
	})
	if err != nil {
		t.Fatalf("resumed put: %v", err)
	}
	if o.Digest != digestOf(content) {
		t.Errorf("resumed put stored %s, want %s", o.Digest, digestOf(content))
	}
	if first < 64<<10 {
		t.Errorf("resumed at offset %d, want at least one chunk", first)
	}
	if sent := ft.sentBytes.Load(); sent != int64(len(content))-first {
		t.Errorf("resumed put sent %d bytes, want the missing %d", sent, int64(len(content))-first)
	}
}

// TestDownloadResumesWithIfMatch cuts the first response of a download and
// checks that the second request reads the rest of the same version.
func TestDownloadResumesWithIfMatch(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := randomBytes(t, 300<<10)
	if _, err := c.PutObject(t.Context(), bucket, "f", bytes.NewReader(content), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	ft := &faultTransport{cutResponse: func(req *http.Request, n int) int64 {
		if req.Method == http.MethodGet && req.Header.Get("Range") == "" {
			return 100 << 10
		}
		return -1
	}}
	reader := newClient(t, ft, client.Options{})
	path := filepath.Join(t.TempDir(), "f")
	o, err := reader.DownloadFile(t.Context(), bucket, "f", path, client.DownloadOptions{})
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, content) || o.Digest != digestOf(content) {
		t.Fatalf("downloaded %d bytes (%v), digest %s; want the %d uploaded", len(got), err, o.Digest, len(content))
	}
	gets := ft.requestsMatching(http.MethodGet, "/objects/f")
	if len(gets) != 2 {
		t.Fatalf("%d GET requests, want 2", len(gets))
	}
	if r := gets[1].Header.Get("Range"); r != "bytes=102400-" {
		t.Errorf("resume Range = %q, want bytes=102400-", r)
	}
	if m := gets[1].Header.Get("If-Match"); m != `"`+digestOf(content)+`"` {
		t.Errorf("resume If-Match = %q, want the digest", m)
	}
}

// TestDownloadResumesPartialFile continues from a partial file that an
// interrupted download left behind.
func TestDownloadResumesPartialFile(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := randomBytes(t, 200<<10)
	if _, err := c.PutObject(t.Context(), bucket, "f", bytes.NewReader(content), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	ft := &faultTransport{cutResponse: func(req *http.Request, n int) int64 {
		if req.Method == http.MethodGet {
			return 50 << 10
		}
		return -1
	}}
	broken := newClient(t, ft, client.Options{Retry: client.RetryOptions{MaxAttempts: 1}})
	path := filepath.Join(t.TempDir(), "f")
	if _, err := broken.DownloadFile(t.Context(), bucket, "f", path, client.DownloadOptions{}); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("broken download: %v, want ErrUnavailable", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the target exists after a failed download: %v", err)
	}

	ft2 := &faultTransport{}
	resumer := newClient(t, ft2, client.Options{})
	if _, err := resumer.DownloadFile(t.Context(), bucket, "f", path, client.DownloadOptions{}); err != nil {
		t.Fatalf("resumed download: %v", err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, content) {
		t.Errorf("resumed download wrote %d bytes that differ from the %d uploaded", len(got), len(content))
	}
	gets := ft2.requestsMatching(http.MethodGet, "/objects/f")
	if len(gets) != 1 || gets[0].Header.Get("Range") != "bytes=51200-" {
		t.Errorf("resumed download sent %d GETs, first Range %q; want 1 with bytes=51200-", len(gets), gets[0].Header.Get("Range"))
	}
}

func TestDownloadDetectsCorruption(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	bucket := newBucket(t, c)
	content := randomBytes(t, 10<<10)
	if _, err := c.PutObject(t.Context(), bucket, "f", bytes.NewReader(content), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	ft := &faultTransport{}
	ft.fail = func(req *http.Request, n int) (*http.Response, error) {
		if req.Method != http.MethodGet {
			return nil, nil
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body[len(body)/2] ^= 0xff
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	r, err := newClient(t, ft, client.Options{}).GetObject(t.Context(), bucket, "f", client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = io.ReadAll(r)
	var integrity *client.IntegrityError
	if !errors.Is(err, client.ErrIntegrity) || !errors.As(err, &integrity) {
		t.Errorf("read of corrupted content: %v, want an IntegrityError", err)
	}
}

func drainBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
