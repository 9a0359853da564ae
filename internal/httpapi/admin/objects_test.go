package admin_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// adminServer serves the management API from admin.New over the memory
// storage driver and SQLite metadata; HTTP Basic authentication, which
// cofferd puts in front of it, has its own tests.
type adminServer struct {
	url   string
	store *objects.Store
	meta  *sqlite.Store
}

func newAdminServer(t *testing.T) *adminServer {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	blobs := blob.New(memory.New(), meta)
	store := objects.New(meta, blobs, "us-east-1")
	handler := admin.New(registry.New(meta, blobs, 4<<20), store, func() admin.SystemInfo { return admin.SystemInfo{} })
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &adminServer{url: srv.URL, store: store, meta: meta}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; headers is a list of name, value pairs.
func (s *adminServer) do(t *testing.T, method, path string, body []byte, headers ...string) response {
	t.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, reader)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func (s *adminServer) must(t *testing.T, want int, method, path string, body []byte, headers ...string) response {
	t.Helper()
	resp := s.do(t, method, path, body, headers...)
	if resp.status != want {
		t.Fatalf("%s %s = %d, want %d; body: %s", method, path, resp.status, want, resp.body)
	}
	return resp
}

func (s *adminServer) createBucket(t *testing.T, name string) {
	t.Helper()
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/buckets", []byte(`{"name": "`+name+`"}`))
}

// expectProblem checks an RFC 9457 problem details response.
func expectProblem(t *testing.T, resp response, status int, path string) admin.Problem {
	t.Helper()
	if resp.status != status {
		t.Errorf("status = %d, want %d; body: %s", resp.status, status, resp.body)
	}
	if got := resp.header.Get("Content-Type"); got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}
	var p admin.Problem
	if err := json.Unmarshal(resp.body, &p); err != nil {
		t.Errorf("problem body %q: %v", resp.body, err)
		return p
	}
	if p.Status != status || p.Title != http.StatusText(status) || p.Type != "about:blank" {
		t.Errorf("problem = status %d title %q type %q, want %d %q about:blank", p.Status, p.Title, p.Type, status, http.StatusText(status))
	}
	if p.Detail == "" {
		t.Errorf("problem has no detail")
	}
	if p.Instance != path {
		t.Errorf("problem instance = %q, want %q", p.Instance, path)
	}
	return p
}

func decodeJSON(t *testing.T, resp response, v any) {
	t.Helper()
	if got := resp.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		t.Fatalf("decode %T from %q: %v", v, resp.body, err)
	}
}

type objectInfo struct {
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	Digest      string    `json:"digest"`
	ETag        string    `json:"etag"`
	ContentType string    `json:"content_type"`
	Modified    time.Time `json:"modified"`
}

type sessionInfo struct {
	ID       string `json:"id"`
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Offset   int64  `json:"offset"`
	Location string `json:"location"`
}

func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

func TestAdminBuckets(t *testing.T) {
	s := newAdminServer(t)
	resp := s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/buckets", []byte(`{"name": "beta"}`))
	if got := resp.header.Get("Location"); got != "/api/v1/buckets/beta" {
		t.Errorf("Location = %q", got)
	}
	s.createBucket(t, "alpha")

	var page struct {
		Items []struct {
			Name    string    `json:"name"`
			Region  string    `json:"region"`
			Created time.Time `json:"created"`
		} `json:"items"`
	}
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets", nil), &page)
	var names []string
	for _, b := range page.Items {
		names = append(names, b.Name)
		if b.Region != "us-east-1" || b.Created.IsZero() {
			t.Errorf("bucket %s: region %q created %v", b.Name, b.Region, b.Created)
		}
	}
	if !slices.Equal(names, []string{"alpha", "beta"}) {
		t.Errorf("buckets = %q, want alpha beta", names)
	}

	expectProblem(t, s.do(t, http.MethodPost, "/api/v1/buckets", []byte(`{"name": "alpha"}`)), http.StatusConflict, "/api/v1/buckets")
	expectProblem(t, s.do(t, http.MethodPost, "/api/v1/buckets", []byte(`{"name": "Bad_Name"}`)), http.StatusBadRequest, "/api/v1/buckets")
	expectProblem(t, s.do(t, http.MethodPost, "/api/v1/buckets", []byte(`{"name":`)), http.StatusBadRequest, "/api/v1/buckets")
}

func TestAdminDeleteBucket(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "full")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/full/objects/a/b", []byte("x"))
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/buckets/full/uploads", []byte(`{"key": "pending"}`))

	expectProblem(t, s.do(t, http.MethodDelete, "/api/v1/buckets/full", nil), http.StatusConflict, "/api/v1/buckets/full")
	expectProblem(t, s.do(t, http.MethodDelete, "/api/v1/buckets/full?recursive=false", nil), http.StatusConflict, "/api/v1/buckets/full")
	expectProblem(t, s.do(t, http.MethodDelete, "/api/v1/buckets/full?recursive=yes", nil), http.StatusBadRequest, "/api/v1/buckets/full")
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/buckets/full?recursive=true", nil)
	expectProblem(t, s.do(t, http.MethodDelete, "/api/v1/buckets/full", nil), http.StatusNotFound, "/api/v1/buckets/full")

	s.createBucket(t, "empty")
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/buckets/empty", nil)
}

func TestAdminPutObject(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	data := []byte("native object")
	d := digest.SHA256.FromBytes(data)

	resp := s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/objs/objects/dir/sub/file.txt", data,
		admin.ExpectedDigestHeader, string(d), "Content-Type", "text/plain")
	if got := resp.header.Get("ETag"); got != `"`+string(d)+`"` {
		t.Errorf("ETag = %q, want the quoted digest", got)
	}
	var info objectInfo
	decodeJSON(t, resp, &info)
	if info.Bucket != "objs" || info.Key != "dir/sub/file.txt" || info.Size != int64(len(data)) ||
		info.Digest != string(d) || info.ETag != md5Hex(data) || info.ContentType != "text/plain" || info.Modified.IsZero() {
		t.Errorf("object = %+v", info)
	}

	path := "/api/v1/buckets/objs/objects/wrong"
	expectProblem(t, s.do(t, http.MethodPut, path, data, admin.ExpectedDigestHeader, string(digest.SHA256.FromBytes([]byte("other")))), http.StatusBadRequest, path)
	expectProblem(t, s.do(t, http.MethodPut, path, data, admin.ExpectedDigestHeader, "sha256:short"), http.StatusBadRequest, path)
	expectProblem(t, s.do(t, http.MethodPut, path, data, admin.ExpectedDigestHeader, string(digest.SHA512.FromBytes(data))), http.StatusBadRequest, path)
	expectProblem(t, s.do(t, http.MethodGet, path, nil), http.StatusNotFound, path)
	expectProblem(t, s.do(t, http.MethodPut, "/api/v1/buckets/nobucket/objects/k", data), http.StatusNotFound, "/api/v1/buckets/nobucket/objects/k")

	// Without the header the object is stored unchecked.
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/objs/objects/unchecked", data)
}

func TestAdminGetObject(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	data := []byte("0123456789")
	d := digest.SHA256.FromBytes(data)
	etag := `"` + string(d) + `"`
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/objs/objects/k", data)
	path := "/api/v1/buckets/objs/objects/k"

	resp := s.must(t, http.StatusOK, http.MethodGet, path, nil)
	if !bytes.Equal(resp.body, data) {
		t.Errorf("body = %q", resp.body)
	}
	want := map[string]string{
		"ETag":           etag,
		"Coffer-Digest":  string(d),
		"Accept-Ranges":  "bytes",
		"Content-Type":   "application/octet-stream",
		"Content-Length": "10",
	}
	for name, value := range want {
		if got := resp.header.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if _, err := http.ParseTime(resp.header.Get("Last-Modified")); err != nil {
		t.Errorf("Last-Modified %q: %v", resp.header.Get("Last-Modified"), err)
	}

	resp = s.must(t, http.StatusPartialContent, http.MethodGet, path, nil, "Range", "bytes=2-5", "If-Match", etag)
	if string(resp.body) != "2345" || resp.header.Get("Content-Range") != "bytes 2-5/10" {
		t.Errorf("range = %q %q, want 2345 and bytes 2-5/10", resp.body, resp.header.Get("Content-Range"))
	}
	resp = s.must(t, http.StatusPartialContent, http.MethodHead, path, nil, "Range", "bytes=-3")
	if len(resp.body) != 0 || resp.header.Get("Content-Range") != "bytes 7-9/10" || resp.header.Get("Content-Length") != "3" {
		t.Errorf("HEAD range = %d body bytes, %q, length %q", len(resp.body), resp.header.Get("Content-Range"), resp.header.Get("Content-Length"))
	}
	s.must(t, http.StatusOK, http.MethodGet, path, nil, "If-Match", "*")

	resp = s.do(t, http.MethodGet, path, nil, "Range", "bytes=10-20")
	expectProblem(t, resp, http.StatusRequestedRangeNotSatisfiable, path)
	if got := resp.header.Get("Content-Range"); got != "bytes */10" {
		t.Errorf("416 Content-Range = %q, want bytes */10", got)
	}
	// The ETag is the digest, not the MD5 that the S3 API uses.
	expectProblem(t, s.do(t, http.MethodGet, path, nil, "If-Match", `"`+md5Hex(data)+`"`), http.StatusPreconditionFailed, path)
	expectProblem(t, s.do(t, http.MethodGet, path, nil, "Range", "bytes=0-1", "If-Match", `"sha256:0000"`), http.StatusPreconditionFailed, path)
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/objs/objects/missing", nil), http.StatusNotFound, "/api/v1/buckets/objs/objects/missing")
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/nobucket/objects/k", nil), http.StatusNotFound, "/api/v1/buckets/nobucket/objects/k")
}

func TestAdminDeleteObject(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/objs/objects/k", []byte("x"))
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/buckets/objs/objects/k", nil)
	s.must(t, http.StatusNotFound, http.MethodGet, "/api/v1/buckets/objs/objects/k", nil)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/buckets/objs/objects/k", nil)
	expectProblem(t, s.do(t, http.MethodDelete, "/api/v1/buckets/nobucket/objects/k", nil), http.StatusNotFound, "/api/v1/buckets/nobucket/objects/k")
}

type objectPage struct {
	Items          []objectInfo `json:"items"`
	CommonPrefixes []string     `json:"common_prefixes"`
	NextCursor     string       `json:"next_cursor"`
}

func TestAdminListObjects(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	keys := []string{"a", "b/1", "b/2", "b/c/3", "c", "d/4", "e"}
	for _, key := range keys {
		s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/objs/objects/"+key, []byte(key))
	}

	var page objectPage
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets/objs/objects?prefix=b/&delimiter=/", nil), &page)
	var got []string
	for _, o := range page.Items {
		got = append(got, o.Key)
	}
	if !slices.Equal(got, []string{"b/1", "b/2"}) || !slices.Equal(page.CommonPrefixes, []string{"b/c/"}) || page.NextCursor != "" {
		t.Errorf("prefix b/ = keys %q prefixes %q cursor %q", got, page.CommonPrefixes, page.NextCursor)
	}
	if page.Items[0].Digest != string(digest.SHA256.FromBytes([]byte("b/1"))) || page.Items[0].Size != 3 {
		t.Errorf("item = %+v", page.Items[0])
	}

	// Walk pages of two with a delimiter: a page may end on a common prefix.
	var entries []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(keys) {
			t.Fatalf("too many pages")
		}
		var p objectPage
		decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets/objs/objects?delimiter=/&limit=2&cursor="+cursor, nil), &p)
		if len(p.Items)+len(p.CommonPrefixes) > 2 {
			t.Errorf("page has %d entries, limit 2", len(p.Items)+len(p.CommonPrefixes))
		}
		for _, o := range p.Items {
			entries = append(entries, o.Key)
		}
		entries = append(entries, p.CommonPrefixes...)
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	slices.Sort(entries)
	if want := []string{"a", "b/", "c", "d/", "e"}; !slices.Equal(entries, want) {
		t.Errorf("entries over pages = %q, want %q", entries, want)
	}

	for _, query := range []string{"limit=0", "limit=1001", "limit=ten", "cursor=!!!"} {
		expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/objs/objects?"+query, nil), http.StatusBadRequest, "/api/v1/buckets/objs/objects")
	}
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/nobucket/objects", nil), http.StatusNotFound, "/api/v1/buckets/nobucket/objects")
}

func TestAdminUploadSession(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	data := []byte("first chunk|second chunk|third")
	d := digest.SHA256.FromBytes(data)

	resp := s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/buckets/objs/uploads", []byte(`{"key": "big.bin"}`))
	var session sessionInfo
	decodeJSON(t, resp, &session)
	location := resp.header.Get("Location")
	if session.ID == "" || location != "/api/v1/uploads/"+session.ID || session.Location != location {
		t.Fatalf("session = %+v, Location %q", session, location)
	}
	if session.Bucket != "objs" || session.Key != "big.bin" || session.Offset != 0 || resp.header.Get(admin.UploadOffsetHeader) != "0" {
		t.Errorf("new session = %+v, Upload-Offset %q", session, resp.header.Get(admin.UploadOffsetHeader))
	}

	resp = s.must(t, http.StatusAccepted, http.MethodPatch, location, data[:12], "Content-Range", "bytes 0-11/*")
	if got := resp.header.Get(admin.UploadOffsetHeader); got != "12" {
		t.Errorf("Upload-Offset after the first chunk = %q, want 12", got)
	}
	// A chunk without Content-Range is appended at the current offset.
	s.must(t, http.StatusAccepted, http.MethodPatch, location, data[12:25])

	// A client that lost its place requests the offset, then resumes.
	resp = s.must(t, http.StatusNoContent, http.MethodHead, location, nil)
	if got := resp.header.Get(admin.UploadOffsetHeader); got != "25" {
		t.Errorf("HEAD Upload-Offset = %q, want 25", got)
	}
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, location, nil), &session)
	if session.Offset != 25 {
		t.Errorf("GET session offset = %d, want 25", session.Offset)
	}

	resp = s.do(t, http.MethodPatch, location, data[25:], "Content-Range", "bytes 12-16/*")
	expectProblem(t, resp, http.StatusConflict, location)
	if got := resp.header.Get(admin.UploadOffsetHeader); got != "25" {
		t.Errorf("409 Upload-Offset = %q, want the current offset 25", got)
	}
	expectProblem(t, s.do(t, http.MethodPatch, location, data[25:], "Content-Range", "bytes 9-5"), http.StatusBadRequest, location)

	last := "bytes 25-" + strconv.Itoa(len(data)-1) + "/*"
	s.must(t, http.StatusAccepted, http.MethodPatch, location, data[25:], "Content-Range", last)

	expectProblem(t, s.do(t, http.MethodPut, location, nil), http.StatusBadRequest, location)
	resp = s.must(t, http.StatusCreated, http.MethodPut, location+"?digest="+string(d), nil, "Content-Type", "application/x-big")
	if got := resp.header.Get("ETag"); got != `"`+string(d)+`"` {
		t.Errorf("ETag = %q, want the quoted digest", got)
	}
	var info objectInfo
	decodeJSON(t, resp, &info)
	if info.Key != "big.bin" || info.Size != int64(len(data)) || info.Digest != string(d) || info.ETag != md5Hex(data) || info.ContentType != "application/x-big" {
		t.Errorf("object = %+v", info)
	}
	if resp := s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets/objs/objects/big.bin", nil); !bytes.Equal(resp.body, data) {
		t.Errorf("object content = %q, want the chunks joined", resp.body)
	}
	s.must(t, http.StatusNotFound, http.MethodHead, location, nil)
}

func TestAdminUploadSessionWrongDigest(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	var session sessionInfo
	decodeJSON(t, s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/buckets/objs/uploads", []byte(`{"key": "k"}`)), &session)
	s.must(t, http.StatusAccepted, http.MethodPatch, session.Location, []byte("content"))

	wrong := digest.SHA256.FromBytes([]byte("other"))
	expectProblem(t, s.do(t, http.MethodPut, session.Location+"?digest="+string(wrong), nil), http.StatusBadRequest, session.Location)
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/objs/objects/k", nil), http.StatusNotFound, "/api/v1/buckets/objs/objects/k")
}

func TestAdminUploadSessionCancel(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	var session sessionInfo
	decodeJSON(t, s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/buckets/objs/uploads", []byte(`{"key": "k"}`)), &session)
	s.must(t, http.StatusAccepted, http.MethodPatch, session.Location, []byte("partial"))
	s.must(t, http.StatusNoContent, http.MethodDelete, session.Location, nil)
	s.must(t, http.StatusNotFound, http.MethodHead, session.Location, nil)
	expectProblem(t, s.do(t, http.MethodDelete, session.Location, nil), http.StatusNotFound, session.Location)
	expectProblem(t, s.do(t, http.MethodPatch, session.Location, []byte("late")), http.StatusNotFound, session.Location)
}

func TestAdminUploadSessionErrors(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "objs")
	expectProblem(t, s.do(t, http.MethodPost, "/api/v1/buckets/nobucket/uploads", []byte(`{"key": "k"}`)), http.StatusNotFound, "/api/v1/buckets/nobucket/uploads")
	expectProblem(t, s.do(t, http.MethodPost, "/api/v1/buckets/objs/uploads", []byte(`{"key": ""}`)), http.StatusBadRequest, "/api/v1/buckets/objs/uploads")
	expectProblem(t, s.do(t, http.MethodPost, "/api/v1/buckets/objs/uploads", []byte(`key=k`)), http.StatusBadRequest, "/api/v1/buckets/objs/uploads")
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/uploads/unknown", nil), http.StatusNotFound, "/api/v1/uploads/unknown")
	expectProblem(t, s.do(t, http.MethodPut, "/api/v1/uploads/unknown?digest="+string(digest.SHA256.FromBytes(nil)), nil), http.StatusNotFound, "/api/v1/uploads/unknown")
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/no/such/endpoint", nil), http.StatusNotFound, "/api/v1/no/such/endpoint")
}
