package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

const testRegion = "us-east-1"

// allowAll admits every request as principal "test" and passes the body
// through unchanged; signature checking has its own tests in sigv4.
type allowAll struct{}

func (allowAll) Authenticate(r *http.Request, bucket string) (s3.Auth, error) {
	return s3.Auth{
		Identity:      identity.Root("test"),
		Body:          r.Body,
		DecodedLength: r.ContentLength,
		Trailer:       func(string) string { return "" },
	}, nil
}

// testServer serves the S3 handler behind the same middleware as cofferd's
// S3 listener (request IDs and access log, then panic recovery), over the
// memory storage driver and SQLite metadata.
type testServer struct {
	url    string
	driver *memory.Driver
	store  *objects.Store
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	handler, driver, store := newHandler(t)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, driver: driver, store: store}
}

// newHandler returns the S3 handler behind cofferd's middleware, and the
// storage driver and object store under it.
func newHandler(tb testing.TB) (http.Handler, *memory.Driver, *objects.Store) {
	tb.Helper()
	return newHandlerWith(tb, allowAll{}, s3.Options{Region: testRegion})
}

// newHandlerWith is newHandler with another authenticator and options.
func newHandlerWith(tb testing.TB, auth s3.Authenticator, opts s3.Options) (http.Handler, *memory.Driver, *objects.Store) {
	tb.Helper()
	meta, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "m.db"))
	if err != nil {
		tb.Fatalf("open sqlite store: %v", err)
	}
	tb.Cleanup(func() { _ = meta.Close() })
	driver := memory.New()
	store := objects.New(meta, blob.New(driver, meta), testRegion)
	if opts.Authorizer == nil {
		opts.Authorizer = identity.NewAuthorizer(objects.BucketPolicies{Store: store})
	}
	handler := s3.New(store, auth, opts)
	return middleware.Logging(slog.New(slog.DiscardHandler), middleware.Recover(handler)), driver, store
}

// response is a read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request. headers is a list of name, value pairs.
func (s *testServer) do(t *testing.T, method, path string, body []byte, headers ...string) response {
	t.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, reader)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	if len(headers)%2 != 0 {
		t.Fatalf("headers must come in name, value pairs: %q", headers)
	}
	for i := 0; i < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of %s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// must sends a request and fails the test unless the status is want.
func (s *testServer) must(t *testing.T, want int, method, path string, body []byte, headers ...string) response {
	t.Helper()
	resp := s.do(t, method, path, body, headers...)
	if resp.status != want {
		t.Fatalf("%s %s = %d, want %d; body: %s", method, path, resp.status, want, resp.body)
	}
	return resp
}

func (s *testServer) createBucket(t *testing.T, name string) {
	t.Helper()
	s.must(t, http.StatusOK, http.MethodPut, "/"+name, nil)
}

func (s *testServer) putObject(t *testing.T, bucket, key string, data []byte, headers ...string) response {
	t.Helper()
	return s.must(t, http.StatusOK, http.MethodPut, "/"+bucket+"/"+key, data, headers...)
}

// errorDocument is the S3 XML error body.
type errorDocument struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
}

// expectError checks an S3 error response: the status, the code, a message,
// the resource, and a RequestId equal to the x-amz-request-id header.
func expectError(t *testing.T, resp response, status int, code, resource string) {
	t.Helper()
	if resp.status != status {
		t.Errorf("status = %d, want %d; body: %s", resp.status, status, resp.body)
	}
	if got := resp.header.Get("Content-Type"); got != "application/xml" {
		t.Errorf("error Content-Type = %q, want application/xml", got)
	}
	var doc errorDocument
	if err := xml.Unmarshal(resp.body, &doc); err != nil {
		t.Errorf("error body is not an S3 Error document: %v; body: %q", err, resp.body)
		return
	}
	if doc.Code != code {
		t.Errorf("error code = %q, want %q (message %q)", doc.Code, code, doc.Message)
	}
	if doc.Message == "" {
		t.Errorf("error %s has an empty message", doc.Code)
	}
	if doc.Resource != resource {
		t.Errorf("error resource = %q, want %q", doc.Resource, resource)
	}
	requestID := resp.header.Get("X-Amz-Request-Id")
	if requestID == "" {
		t.Errorf("x-amz-request-id header is missing")
	}
	if doc.RequestID != requestID {
		t.Errorf("RequestId = %q, x-amz-request-id = %q; want them equal", doc.RequestID, requestID)
	}
}

// decodeXML unmarshals a successful XML response.
func decodeXML(t *testing.T, resp response, v any) {
	t.Helper()
	if got := resp.header.Get("Content-Type"); got != "application/xml" {
		t.Errorf("Content-Type = %q, want application/xml", got)
	}
	if !bytes.HasPrefix(resp.body, []byte(xml.Header)) {
		t.Errorf("body does not start with the XML declaration: %.60q", resp.body)
	}
	if err := xml.Unmarshal(resp.body, v); err != nil {
		t.Fatalf("decode %T: %v; body: %s", v, err, resp.body)
	}
}

// storedBytes returns the total size of the content in storage.
func (s *testServer) storedBytes(t *testing.T) int64 {
	t.Helper()
	var total int64
	err := s.driver.Walk(t.Context(), "", func(info storage.Info) error {
		total += info.Size
		return nil
	})
	if err != nil {
		t.Fatalf("walk storage: %v", err)
	}
	return total
}

func quotedMD5(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func md5Base64(data []byte) string {
	sum := md5.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func crc32Base64(data []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(data))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pattern returns n bytes that vary with the offset and the seed.
func pattern(seed byte, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7) ^ byte(i>>9) ^ seed
	}
	return data
}

func hasHeaderPrefix(header http.Header, prefix string) []string {
	var names []string
	for name := range header {
		if strings.HasPrefix(strings.ToLower(name), strings.ToLower(prefix)) {
			names = append(names, name)
		}
	}
	return names
}
