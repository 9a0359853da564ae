package client_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pkg/client"
)

var bucketCounter atomic.Int64

// newClient returns a root client of the test server with the given
// transport (nil for the default) and quick retries.
func newClient(t *testing.T, transport http.RoundTripper, opts client.Options) *client.Client {
	t.Helper()
	if transport != nil {
		opts.HTTPClient = &http.Client{Transport: transport}
	}
	if opts.Auth == nil {
		opts.Auth = client.Basic{Username: rootUser, Password: rootPassword}
	}
	if opts.Retry.MinDelay == 0 {
		opts.Retry.MinDelay = time.Millisecond
	}
	c, err := client.New(serverURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newBucket creates a bucket with a unique name.
func newBucket(t *testing.T, c *client.Client) string {
	t.Helper()
	name := "test-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	name = name[:min(len(name), 40)] + "-" + strconv.FormatInt(bucketCounter.Add(1), 10)
	name = strings.Map(func(r rune) rune {
		if r == '_' {
			return '-'
		}
		return r
	}, name)
	if err := c.CreateBucket(t.Context(), name); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// faultTransport passes requests to http.DefaultTransport and lets a test
// change them: fail returns a response or error to send instead, and
// cutResponse cuts the body of a response after that many bytes.
type faultTransport struct {
	mu          sync.Mutex
	requests    []*http.Request
	fail        func(req *http.Request, n int) (*http.Response, error)
	cutResponse func(req *http.Request, n int) int64
	sentBytes   atomic.Int64
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	n := len(f.requests)
	f.mu.Unlock()
	if f.fail != nil {
		if resp, err := f.fail(req, n); resp != nil || err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			if resp != nil {
				resp.Request = req
			}
			return resp, err
		}
	}
	if req.Body != nil {
		req.Body = &countingBody{ReadCloser: req.Body, count: &f.sentBytes}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || f.cutResponse == nil {
		return resp, err
	}
	if limit := f.cutResponse(req, n); limit >= 0 {
		resp.Body = &cutBody{ReadCloser: resp.Body, left: limit}
	}
	return resp, nil
}

// requestsMatching returns the requests with the method whose path
// contains part.
func (f *faultTransport) requestsMatching(method, part string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.requests {
		if r.Method == method && strings.Contains(r.URL.Path, part) {
			out = append(out, r)
		}
	}
	return out
}

func statusResponse(status int, header http.Header) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(nil))}
}

type countingBody struct {
	io.ReadCloser
	count *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.count.Add(int64(n))
	return n, err
}

// cutBody ends a body with io.ErrUnexpectedEOF after left bytes, as a
// broken connection does.
type cutBody struct {
	io.ReadCloser
	left int64
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
