package oci_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

const (
	testUser     = "admin"
	testPassword = "password123"
	// testMaxManifestBytes is cofferd's default manifest limit (4 MiB).
	testMaxManifestBytes = 4 << 20
	// rawReadTimeout bounds a raw-connection read, so that a server bug
	// hangs the test for a bounded time. No assertion depends on it.
	rawReadTimeout = 30 * time.Second
)

// testServer serves the OCI API of cofferd from an httptest server: the
// memory storage driver, SQLite metadata, the blob store, the registry and
// the middleware that cofferd puts in front of /v2/.
type testServer struct {
	url    string
	addr   string // host:port of the listener, for raw connections
	driver *memory.Driver
	blobs  *blob.Store
	audit  *auditRecords
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })

	driver := memory.New()
	blobs := blob.New(driver, store)
	reg := registry.New(store, blobs, testMaxManifestBytes)
	// The same layers as cofferd's API routes: access log, panic recovery,
	// the audit record, then the OCI handler with access control.
	api := newProtectedAPI(t, reg)
	records := &auditRecords{}
	top := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") {
			api.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(middleware.Logging(slog.New(slog.DiscardHandler), middleware.Recover(records.wrap(top))))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, addr: srv.Listener.Addr().String(), driver: driver, blobs: blobs, audit: records}
}

// response is a fully read HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request with the root credentials unless header sets
// Authorization. An Authorization value of "-" sends no credentials.
func (s *testServer) do(t *testing.T, method, path string, header map[string]string, body []byte) response {
	t.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, reader)
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, path, err)
	}
	req.SetBasicAuth(testUser, testPassword)
	for key, value := range header {
		if key == "Authorization" && value == "-" {
			req.Header.Del("Authorization")
			continue
		}
		req.Header.Set(key, value)
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

// raw writes request bytes on a new TCP connection and reads the first
// response. With halfClose it then closes the write side, so that a body
// shorter than its Content-Length ends as when a client disconnects. It
// returns nil when the server closed the connection without a response.
func (s *testServer) raw(t *testing.T, request []byte, halfClose bool) *response {
	t.Helper()
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatalf("dial %s: %v", s.addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write(request); err != nil {
		t.Fatalf("write raw request: %v", err)
	}
	if halfClose {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatalf("close write side: %v", err)
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(rawReadTimeout))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// rawRequest formats an HTTP/1.1 request with the root credentials and
// the given Content-Length, whatever the length of body.
func rawRequest(method, path string, contentLength int, header map[string]string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: coffer.test\r\n", method, path)
	credentials := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword))
	fmt.Fprintf(&b, "Authorization: Basic %s\r\n", credentials)
	fmt.Fprintf(&b, "Content-Length: %d\r\n", contentLength)
	for key, value := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", key, value)
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// exchange is one row of a request/response table: a request and the
// response it must get. Rows of one table run in order on one server, so
// a row may use what an earlier row created.
type exchange struct {
	name   string
	method string
	// path is relative to the server. "{key}" is replaced by the value an
	// earlier row saved under key, in path, request headers and want.
	path   string
	header map[string]string
	body   []byte

	status int
	// code is the expected OCI error code. When it is empty, a response
	// with an error status is not checked for a body (HEAD responses).
	code string
	// want maps response headers to their exact value. A value ending in
	// '*' requires the header and matches as a prefix, and an empty value
	// requires the header to be absent.
	want map[string]string
	// wantBody, when not nil, is the exact response body.
	wantBody []byte
	// save stores the response's Location header under this key, and the
	// last segment of its path (an upload session ID) under key + ".id".
	save string
}

// run sends the rows of a table in order and checks every response.
func (s *testServer) run(t *testing.T, table []exchange) {
	t.Helper()
	saved := map[string]string{}
	for _, row := range table {
		expand := func(text string) string {
			for key, value := range saved {
				text = strings.ReplaceAll(text, "{"+key+"}", value)
			}
			return text
		}
		header := map[string]string{}
		for key, value := range row.header {
			header[key] = expand(value)
		}
		resp := s.do(t, row.method, expand(row.path), header, row.body)
		label := fmt.Sprintf("%s: %s %s", row.name, row.method, expand(row.path))

		checkStatus(t, label, resp, row.status)
		for key, value := range row.want {
			checkHeader(t, label, resp.header, key, expand(value))
		}
		if row.code != "" {
			checkErrorCode(t, label, resp, row.code)
		}
		if row.wantBody != nil && !bytes.Equal(resp.body, row.wantBody) {
			t.Errorf("%s: body = %q, want %q", label, clip(resp.body), clip(row.wantBody))
		}
		if row.save != "" {
			location := resp.header.Get("Location")
			saved[row.save] = location
			saved[row.save+".id"] = location[strings.LastIndexByte(location, '/')+1:]
		}
	}
}

func checkStatus(t *testing.T, label string, resp response, want int) {
	t.Helper()
	if resp.status != want {
		t.Errorf("%s: status = %d, want %d (body %q)", label, resp.status, want, clip(resp.body))
	}
}

func checkHeader(t *testing.T, label string, header http.Header, key, want string) {
	t.Helper()
	values := header.Values(key)
	got := strings.Join(values, ", ")
	switch {
	case want == "":
		if len(values) > 0 {
			t.Errorf("%s: header %s = %q, want it absent", label, key, got)
		}
	case strings.HasSuffix(want, "*"):
		if len(values) == 0 || !strings.HasPrefix(got, strings.TrimSuffix(want, "*")) {
			t.Errorf("%s: header %s = %q, want prefix %q", label, key, got, strings.TrimSuffix(want, "*"))
		}
	default:
		if got != want {
			t.Errorf("%s: header %s = %q, want %q", label, key, got, want)
		}
	}
}

// checkErrorCode checks an OCI error body with exactly one error of code.
func checkErrorCode(t *testing.T, label string, resp response, code string) {
	t.Helper()
	if got := resp.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s: error Content-Type = %q, want application/json", label, got)
	}
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Errorf("%s: error body %q is not JSON: %v", label, clip(resp.body), err)
		return
	}
	if len(body.Errors) != 1 {
		t.Errorf("%s: %d errors in body %q, want 1", label, len(body.Errors), clip(resp.body))
		return
	}
	if body.Errors[0].Code != code {
		t.Errorf("%s: error code = %s (%q), want %s", label, body.Errors[0].Code, body.Errors[0].Message, code)
	}
}

// clip shortens a body for a failure message.
func clip(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "..."...)
	}
	return b
}

func sha256Digest(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
func sha512Digest(b []byte) string { return fmt.Sprintf("sha512:%x", sha512.Sum512(b)) }

// pushBlob stores data in repo with a monolithic upload and returns its
// SHA-256 digest.
func (s *testServer) pushBlob(t *testing.T, repo string, data []byte) string {
	t.Helper()
	d := sha256Digest(data)
	resp := s.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d, nil, data)
	if resp.status != http.StatusCreated {
		t.Fatalf("push blob %s to %s: status %d, body %q", d, repo, resp.status, clip(resp.body))
	}
	return d
}

// pushManifest stores a manifest under ref and returns its SHA-256 digest.
func (s *testServer) pushManifest(t *testing.T, repo, ref, mediaType string, content []byte) string {
	t.Helper()
	resp := s.do(t, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, map[string]string{"Content-Type": mediaType}, content)
	if resp.status != http.StatusCreated {
		t.Fatalf("push manifest %s to %s: status %d, body %q", ref, repo, resp.status, clip(resp.body))
	}
	return sha256Digest(content)
}

// catalog returns every repository name.
func (s *testServer) catalog(t *testing.T) []string {
	t.Helper()
	resp := s.do(t, http.MethodGet, "/v2/_catalog", nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("catalog: status %d, body %q", resp.status, clip(resp.body))
	}
	var body struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("catalog body %q: %v", clip(resp.body), err)
	}
	return body.Repositories
}

// checkNoRepository fails unless repo is absent from the catalog.
func (s *testServer) checkNoRepository(t *testing.T, repo string) {
	t.Helper()
	if names := s.catalog(t); slices.Contains(names, repo) {
		t.Errorf("catalog = %q, want no repository %q", names, repo)
	}
}

// checkStatusOf sends a request without body and checks only its status.
func (s *testServer) checkStatusOf(t *testing.T, method, path string, want int) {
	t.Helper()
	resp := s.do(t, method, path, nil, nil)
	checkStatus(t, method+" "+path, resp, want)
}

// descriptor is an OCI content descriptor as test manifests write it.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// Media types used by the tests.
const (
	mediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mediaTypeOCIConfig      = "application/vnd.oci.image.config.v1+json"
	mediaTypeOCILayer       = "application/vnd.oci.image.layer.v1.tar+gzip"
	mediaTypeEmpty          = "application/vnd.oci.empty.v1+json"
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// describe returns the descriptor of data.
func describe(mediaType string, data []byte) descriptor {
	return descriptor{MediaType: mediaType, Digest: sha256Digest(data), Size: int64(len(data))}
}

// marshal encodes a test document. Map keys come out sorted, so equal
// documents have equal bytes.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return data
}

// image is a pushed config and layer and the OCI image manifest over them.
type image struct {
	config, layer []byte
	manifest      []byte
	digest        string
}

// pushImage pushes a config and a layer to repo and returns an OCI image
// manifest over them, not yet pushed. seed makes the content unique.
func (s *testServer) pushImage(t *testing.T, repo, seed string) image {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux","seed":"` + seed + `"}`)
	layer := []byte("layer bytes of " + seed)
	s.pushBlob(t, repo, config)
	s.pushBlob(t, repo, layer)
	manifest := marshal(t, map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaTypeOCIManifest,
		"config":        describe(mediaTypeOCIConfig, config),
		"layers":        []descriptor{describe(mediaTypeOCILayer, layer)},
	})
	return image{config: config, layer: layer, manifest: manifest, digest: sha256Digest(manifest)}
}
