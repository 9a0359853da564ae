package s3_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"testing"
	"time"
)

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

func TestCopyObjectSameBucket(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "cpy")
	data := pattern(1, 10_000)
	s.putObject(t, "cpy", "src", data, "Content-Type", "text/plain", "X-Amz-Meta-Owner", "alice")
	before := s.storedBytes(t)

	var result copyObjectResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPut, "/cpy/dst", nil, "X-Amz-Copy-Source", "cpy/src"), &result)
	if result.ETag != quotedMD5(data) {
		t.Errorf("CopyObjectResult ETag = %q, want %q", result.ETag, quotedMD5(data))
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", result.LastModified); err != nil {
		t.Errorf("LastModified %q: %v", result.LastModified, err)
	}
	resp := s.must(t, http.StatusOK, http.MethodGet, "/cpy/dst", nil)
	if string(resp.body) != string(data) {
		t.Errorf("copy content differs from the source")
	}
	if resp.header.Get("Content-Type") != "text/plain" || resp.header.Get("X-Amz-Meta-Owner") != "alice" {
		t.Errorf("copy attributes = %q %q, want the source's", resp.header.Get("Content-Type"), resp.header.Get("X-Amz-Meta-Owner"))
	}
	if after := s.storedBytes(t); after != before {
		t.Errorf("stored bytes after copy = %d, want %d", after, before)
	}
}

func TestCopyObjectCrossBucketEncodedSource(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "from")
	s.createBucket(t, "dest")
	key := "dir one/ünï+code.txt"
	s.must(t, http.StatusOK, http.MethodPut, "/from/"+(&url.URL{Path: key}).EscapedPath(), []byte("moved"))

	source := "/from/" + url.PathEscape("dir one") + "/" + url.PathEscape("ünï+code.txt")
	var result copyObjectResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPut, "/dest/copy", nil, "X-Amz-Copy-Source", source), &result)
	if result.ETag != quotedMD5([]byte("moved")) {
		t.Errorf("ETag = %q", result.ETag)
	}
	if resp := s.must(t, http.StatusOK, http.MethodGet, "/dest/copy", nil); string(resp.body) != "moved" {
		t.Errorf("copy content = %q", resp.body)
	}
	s.must(t, http.StatusOK, http.MethodPut, "/dest/copy2", nil, "X-Amz-Copy-Source", source+"?versionId=null")
}

func TestCopyObjectMetadataDirective(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "cpy")
	s.putObject(t, "cpy", "src", []byte("data"), "Content-Type", "text/plain", "X-Amz-Meta-Owner", "alice")

	// COPY ignores the request's metadata headers.
	s.must(t, http.StatusOK, http.MethodPut, "/cpy/kept", nil,
		"X-Amz-Copy-Source", "cpy/src", "X-Amz-Metadata-Directive", "COPY", "X-Amz-Meta-Owner", "bob")
	if got := s.must(t, http.StatusOK, http.MethodHead, "/cpy/kept", nil).header.Get("X-Amz-Meta-Owner"); got != "alice" {
		t.Errorf("COPY metadata owner = %q, want alice", got)
	}

	s.must(t, http.StatusOK, http.MethodPut, "/cpy/replaced", nil,
		"X-Amz-Copy-Source", "cpy/src", "X-Amz-Metadata-Directive", "REPLACE",
		"Content-Type", "application/json", "X-Amz-Meta-Owner", "bob")
	resp := s.must(t, http.StatusOK, http.MethodHead, "/cpy/replaced", nil)
	if resp.header.Get("X-Amz-Meta-Owner") != "bob" || resp.header.Get("Content-Type") != "application/json" {
		t.Errorf("REPLACE attributes = %q %q, want bob application/json", resp.header.Get("X-Amz-Meta-Owner"), resp.header.Get("Content-Type"))
	}

	// Copying an object onto itself needs REPLACE.
	expectError(t, s.do(t, http.MethodPut, "/cpy/src", nil, "X-Amz-Copy-Source", "cpy/src"), http.StatusBadRequest, "InvalidRequest", "/cpy/src")
	s.must(t, http.StatusOK, http.MethodPut, "/cpy/src", nil,
		"X-Amz-Copy-Source", "/cpy/src", "X-Amz-Metadata-Directive", "REPLACE", "X-Amz-Meta-Owner", "carol")
	resp = s.must(t, http.StatusOK, http.MethodGet, "/cpy/src", nil)
	if resp.header.Get("X-Amz-Meta-Owner") != "carol" || string(resp.body) != "data" {
		t.Errorf("self-copy with REPLACE = %q %q, want carol data", resp.header.Get("X-Amz-Meta-Owner"), resp.body)
	}
	expectError(t, s.do(t, http.MethodPut, "/cpy/x", nil, "X-Amz-Copy-Source", "cpy/src", "X-Amz-Metadata-Directive", "MERGE"), http.StatusBadRequest, "InvalidArgument", "/cpy/x")
}

func TestCopyObjectConditions(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "cpy")
	data := []byte("conditional source")
	s.putObject(t, "cpy", "src", data)
	etag := quotedMD5(data)
	lastModified := s.must(t, http.StatusOK, http.MethodHead, "/cpy/src", nil).header.Get("Last-Modified")
	modified, err := http.ParseTime(lastModified)
	if err != nil {
		t.Fatalf("Last-Modified %q: %v", lastModified, err)
	}
	earlier := modified.Add(-time.Hour).Format(http.TimeFormat)

	failing := [][]string{
		{"X-Amz-Copy-Source-If-Match", `"0000"`},
		{"X-Amz-Copy-Source-If-None-Match", etag},
		{"X-Amz-Copy-Source-If-Unmodified-Since", earlier},
		{"X-Amz-Copy-Source-If-Modified-Since", lastModified},
	}
	for _, condition := range failing {
		headers := append([]string{"X-Amz-Copy-Source", "cpy/src"}, condition...)
		expectError(t, s.do(t, http.MethodPut, "/cpy/dst", nil, headers...), http.StatusPreconditionFailed, "PreconditionFailed", "/cpy/dst")
	}
	s.must(t, http.StatusNotFound, http.MethodHead, "/cpy/dst", nil)

	holding := [][]string{
		{"X-Amz-Copy-Source-If-Match", etag},
		{"X-Amz-Copy-Source-If-None-Match", `"0000"`},
		{"X-Amz-Copy-Source-If-Modified-Since", earlier},
	}
	for _, condition := range holding {
		headers := append([]string{"X-Amz-Copy-Source", "cpy/src"}, condition...)
		s.must(t, http.StatusOK, http.MethodPut, "/cpy/dst", nil, headers...)
	}
	expectError(t, s.do(t, http.MethodPut, "/cpy/dst", nil, "X-Amz-Copy-Source", "cpy/src", "If-None-Match", "*"),
		http.StatusPreconditionFailed, "PreconditionFailed", "/cpy/dst")
}

func TestCopyObjectErrors(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "cpy")
	s.putObject(t, "cpy", "src", []byte("x"))
	cases := []struct {
		source string
		status int
		code   string
	}{
		{"cpy/missing", http.StatusNotFound, "NoSuchKey"},
		{"nobucket/src", http.StatusNotFound, "NoSuchBucket"},
		{"cpy", http.StatusBadRequest, "InvalidArgument"},
		{"cpy/", http.StatusBadRequest, "InvalidArgument"},
		{"cpy/%zz", http.StatusBadRequest, "InvalidArgument"},
		{"cpy/src?versionId=abc", http.StatusNotImplemented, "NotImplemented"},
	}
	for _, tc := range cases {
		t.Run(tc.source, func(t *testing.T) {
			expectError(t, s.do(t, http.MethodPut, "/cpy/dst", nil, "X-Amz-Copy-Source", tc.source), tc.status, tc.code, "/cpy/dst")
		})
	}
	expectError(t, s.do(t, http.MethodPut, "/nobucket/dst", nil, "X-Amz-Copy-Source", "cpy/src"), http.StatusNotFound, "NoSuchBucket", "/nobucket/dst")
}
