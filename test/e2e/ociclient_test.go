package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ociClient speaks just enough of the OCI distribution API to drive uploads
// the way the durability and large-blob tests need: streamed bodies,
// explicit chunks and resumption from the offset the server reports.
type ociClient struct {
	base string // "http://host:port"
	http *http.Client
}

func newOCIClient(addr string) *ociClient {
	return &ociClient{
		base: "http://" + addr,
		http: &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}},
	}
}

func (c *ociClient) do(t *testing.T, method, path string, body io.Reader, length int64, header map[string]string) (*http.Response, error) {
	t.Helper()
	url := path
	if !strings.HasPrefix(path, "http") {
		url = c.base + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	req.ContentLength = length
	if length == 0 {
		req.Body = http.NoBody
	}
	req.SetBasicAuth(rootUser, rootPassword)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.http.Do(req)
}

// startUpload opens an upload session and returns its absolute location.
func (c *ociClient) startUpload(t *testing.T, repo string) string {
	t.Helper()
	resp, err := c.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, 0, nil)
	if err != nil {
		t.Fatalf("start upload in %s: %v", repo, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload in %s: status %d, want 202", repo, resp.StatusCode)
	}
	return c.base + resp.Header.Get("Location")
}

// patch sends one chunk at offset and returns the new location.
func (c *ociClient) patch(t *testing.T, location string, offset int64, chunk io.Reader, length int64) (string, error) {
	header := map[string]string{
		"Content-Type":  "application/octet-stream",
		"Content-Range": fmt.Sprintf("%d-%d", offset, offset+length-1),
	}
	resp, err := c.do(t, http.MethodPatch, location, chunk, length, header)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("PATCH at %d: status %d, want 202", offset, resp.StatusCode)
	}
	return c.base + resp.Header.Get("Location"), nil
}

// uploadOffset asks the server how many bytes of the session it holds,
// from the Range header of the status response ("0-<last byte>").
func (c *ociClient) uploadOffset(t *testing.T, location string) int64 {
	t.Helper()
	resp, err := c.do(t, http.MethodGet, location, nil, 0, nil)
	if err != nil {
		t.Fatalf("upload status: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("upload status: %d, want 204", resp.StatusCode)
	}
	_, last, ok := strings.Cut(resp.Header.Get("Range"), "-")
	end, err := strconv.ParseInt(last, 10, 64)
	if !ok || err != nil {
		t.Fatalf("upload status: invalid Range %q", resp.Header.Get("Range"))
	}
	if end == 0 {
		// "0-0" stands for both 0 and 1 bytes, as in other registries; the
		// tests never stop after exactly one byte, so it means empty here.
		return 0
	}
	return end + 1
}

// complete finishes an upload with its digest.
func (c *ociClient) complete(t *testing.T, location, digest string) error {
	sep := "?"
	if strings.Contains(location, "?") {
		sep = "&"
	}
	resp, err := c.do(t, http.MethodPut, location+sep+"digest="+digest, nil, 0, nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT digest: status %d, want 201", resp.StatusCode)
	}
	return nil
}

// pushMonolithic streams body to POST ?digest= in one request.
func (c *ociClient) pushMonolithic(t *testing.T, repo, digest string, body io.Reader, length int64) {
	t.Helper()
	resp, err := c.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+digest, body, length,
		map[string]string{"Content-Type": "application/octet-stream"})
	if err != nil {
		t.Fatalf("push %s: %v", digest, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push %s: status %d, want 201", digest, resp.StatusCode)
	}
}

// blobDigest downloads a blob and returns the SHA-256 of its bytes and
// the HTTP status.
func (c *ociClient) blobDigest(t *testing.T, repo, digest string) (string, int) {
	t.Helper()
	resp, err := c.do(t, http.MethodGet, "/v2/"+repo+"/blobs/"+digest, nil, 0, nil)
	if err != nil {
		t.Fatalf("get blob %s: %v", digest, err)
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		t.Fatalf("read blob %s: %v", digest, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), resp.StatusCode
}

// blobStatus returns the status of a blob HEAD.
func (c *ociClient) blobStatus(t *testing.T, repo, digest string) int {
	t.Helper()
	resp, err := c.do(t, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, nil, 0, nil)
	if err != nil {
		t.Fatalf("head blob %s: %v", digest, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// patternReader yields size pseudo-random bytes from seed without holding
// them in memory.
type patternReader struct {
	rng       *rand.ChaCha8
	remaining int64
}

func newPatternReader(seed uint64, size int64) *patternReader {
	var key [32]byte
	copy(key[:], fmt.Sprintf("%032d", seed))
	return &patternReader{rng: rand.NewChaCha8(key), remaining: size}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.remaining {
		b = b[:p.remaining]
	}
	n, _ := p.rng.Read(b)
	p.remaining -= int64(n)
	return n, nil
}

// patternDigest returns the sha256 digest of the pattern for seed and size.
func patternDigest(seed uint64, size int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, newPatternReader(seed, size)); err != nil {
		panic(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// patternSlice returns the bytes [start, start+length) of the pattern.
func patternSlice(seed uint64, start, length int64) io.Reader {
	r := newPatternReader(seed, start+length)
	if _, err := io.CopyN(io.Discard, r, start); err != nil {
		panic(err)
	}
	return r
}
