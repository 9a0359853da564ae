package s3

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
)

func testPresignGet(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	content := []byte("presigned content")
	put(t, d, "blobs/x", content)

	url, err := d.PresignGet(t.Context(), "blobs/x", time.Minute, storage.ResponseHeaders{
		ContentType:        "application/x-test",
		ContentDisposition: `attachment; filename="x.bin"`,
	})
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	if !strings.Contains(url, "/"+bucket+"/"+testPrefix+"/blobs/x?") {
		t.Errorf("presigned URL %q does not name the object %s/blobs/x of bucket %s", url, testPrefix, bucket)
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET presigned URL: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read presigned GET: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("GET presigned URL: status %d, body %q; want 200 with %q", resp.StatusCode, body, content)
	}
	if b.responseOverrides {
		if got := resp.Header.Get("Content-Type"); got != "application/x-test" {
			t.Errorf("Content-Type = %q, want application/x-test", got)
		}
		if got := resp.Header.Get("Content-Disposition"); got != `attachment; filename="x.bin"` {
			t.Errorf("Content-Disposition = %q, want the requested override", got)
		}
	}

	for _, expiry := range []time.Duration{0, -time.Second, 8 * 24 * time.Hour} {
		if _, err := d.PresignGet(t.Context(), "blobs/x", expiry, storage.ResponseHeaders{}); err == nil {
			t.Errorf("PresignGet with expiry %s: no error, want one", expiry)
		}
	}
	if _, err := d.PresignGet(t.Context(), "../x", time.Minute, storage.ResponseHeaders{}); err == nil {
		t.Error("PresignGet of an invalid key: no error, want one")
	}
}
