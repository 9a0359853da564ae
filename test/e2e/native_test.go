package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// nativeUploadSize is the file sent through a resumable upload session.
const nativeUploadSize = 1 << 30

// errInterrupted is what a body reader returns to break a request on purpose.
var errInterrupted = errors.New("interrupted on purpose")

// TestNativeResumableTransfers sends 1 GiB through a native upload session
// that is interrupted twice (once in a streamed chunk, once in a chunk with
// Content-Range), resumes each time from the offset the server reports, and
// completes with the right digest; then a download interrupted half-way
// resumes with Range and If-Match.
func TestNativeResumableTransfers(t *testing.T) {
	srv := startCoffer(t)
	api := newOCIClient(srv.addr) // same credentials and transport
	const seed = 77
	digest := patternDigest(seed, nativeUploadSize)

	mustStatus(t, api, http.MethodPost, "/api/v1/buckets", strings.NewReader(`{"name":"files"}`), -1, nil, http.StatusCreated)
	resp := mustStatus(t, api, http.MethodPost, "/api/v1/buckets/files/uploads", strings.NewReader(`{"key":"images/big.iso"}`), -1, nil, http.StatusCreated)
	location := api.base + resp.Header.Get("Location")

	// First interruption: a streamed chunk (no Content-Range, unknown
	// length) breaks after 300 MiB; the server keeps what arrived.
	streamed := &failingReader{r: newPatternReader(seed, nativeUploadSize), failAfter: 300 << 20}
	_, err := api.do(t, http.MethodPatch, location, streamed, -1, nil)
	if err == nil {
		t.Fatal("the interrupted PATCH succeeded")
	}
	offset := uploadOffset(t, api, location)
	if offset <= 0 || offset > 300<<20 {
		t.Fatalf("offset after the first interruption = %d, want between 1 and %d", offset, 300<<20)
	}

	// Second interruption: a chunk with Content-Range breaks half-way; a
	// declared chunk is kept whole or not at all.
	chunk := int64(256 << 20)
	broken := &failingReader{r: patternSlice(seed, offset, chunk), failAfter: chunk / 2}
	_, err = api.do(t, http.MethodPatch, location, broken, chunk, map[string]string{
		"Content-Range": fmt.Sprintf("bytes %d-%d/*", offset, offset+chunk-1),
	})
	if err == nil {
		t.Fatal("the interrupted ranged PATCH succeeded")
	}
	if after := uploadOffset(t, api, location); after != offset {
		t.Fatalf("offset after a broken declared chunk = %d, want %d (unchanged)", after, offset)
	}

	// Resume from the reported offset and complete.
	rest := nativeUploadSize - offset
	mustStatus(t, api, http.MethodPatch, location, patternSlice(seed, offset, rest), rest, map[string]string{
		"Content-Range": fmt.Sprintf("bytes %d-%d/*", offset, nativeUploadSize-1),
	}, http.StatusAccepted)
	resp = mustStatus(t, api, http.MethodPut, location+"?digest="+digest, nil, 0, nil, http.StatusCreated)
	var stored struct {
		Size   int64  `json:"size"`
		Digest string `json:"digest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stored); err != nil {
		t.Fatalf("decode completion: %v", err)
	}
	if stored.Size != nativeUploadSize || stored.Digest != digest {
		t.Fatalf("stored object = %d bytes %s, want %d bytes %s", stored.Size, stored.Digest, nativeUploadSize, digest)
	}

	resumeDownload(t, api, "/api/v1/buckets/files/objects/images/big.iso", digest)
}

// resumeDownload reads half of an object, stops, and fetches the rest with
// Range and If-Match, then checks the digest of the joined bytes.
func resumeDownload(t *testing.T, api *ociClient, path, digest string) {
	t.Helper()
	resp, err := api.do(t, http.MethodGet, path, nil, 0, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v, status %v", path, err, statusOf(resp))
	}
	etag := resp.Header.Get("ETag")
	h := sha256.New()
	received, err := io.CopyN(h, resp.Body, nativeUploadSize/2)
	resp.Body.Close() // the download breaks here
	if err != nil {
		t.Fatalf("read the first half: %v", err)
	}

	resp = mustStatus(t, api, http.MethodGet, path, nil, 0, map[string]string{
		"Range":    fmt.Sprintf("bytes=%d-", received),
		"If-Match": etag,
	}, http.StatusPartialContent)
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatalf("read the rest: %v", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		t.Fatalf("resumed download hashes to %s, want %s", got, digest)
	}

	resp = mustStatus(t, api, http.MethodGet, path, nil, 0, map[string]string{
		"Range":    "bytes=0-0",
		"If-Match": `"sha256:0000000000000000000000000000000000000000000000000000000000000000"`,
	}, http.StatusPreconditionFailed)
	resp.Body.Close()
}

// mustStatus sends a request and fails the test unless it gets status.
func mustStatus(t *testing.T, api *ociClient, method, path string, body io.Reader, length int64, header map[string]string, status int) *http.Response {
	t.Helper()
	resp, err := api.do(t, method, path, body, length, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != status {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, bytes.TrimSpace(data))
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func uploadOffset(t *testing.T, api *ociClient, location string) int64 {
	t.Helper()
	resp := mustStatus(t, api, http.MethodHead, location, nil, 0, nil, http.StatusNoContent)
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		t.Fatalf("Upload-Offset %q: %v", resp.Header.Get("Upload-Offset"), err)
	}
	return offset
}

func statusOf(resp *http.Response) any {
	if resp == nil {
		return "none"
	}
	return resp.StatusCode
}

// failingReader passes failAfter bytes, then fails, which makes the HTTP
// client abort the request as a broken connection would.
type failingReader struct {
	r         io.Reader
	failAfter int64
	read      int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.read >= f.failAfter {
		return 0, errInterrupted
	}
	if int64(len(p)) > f.failAfter-f.read {
		p = p[:f.failAfter-f.read]
	}
	n, err := f.r.Read(p)
	f.read += int64(n)
	return n, err
}
