package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

func TestPutObjectAttributesRoundTrip(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "attrs")
	data := []byte("object with attributes")
	expires := "Wed, 21 Oct 2037 07:28:00 GMT"
	resp := s.putObject(t, "attrs", "k", data,
		"Content-Type", "text/plain; charset=utf-8",
		"Cache-Control", "max-age=60",
		"Content-Disposition", `attachment; filename="k.txt"`,
		"Content-Language", "de-CH",
		"Expires", expires,
		"X-Amz-Meta-Color", "blue",
		"x-amz-meta-Mixed-Case", "Value With Spaces",
		"X-Amz-Meta-Unicode", "grüezi",
		"X-Amz-Storage-Class", "STANDARD",
	)
	if got := resp.header.Get("ETag"); got != quotedMD5(data) {
		t.Errorf("PUT ETag = %q, want %q", got, quotedMD5(data))
	}

	want := map[string]string{
		"Content-Type":          "text/plain; charset=utf-8",
		"Cache-Control":         "max-age=60",
		"Content-Disposition":   `attachment; filename="k.txt"`,
		"Content-Language":      "de-CH",
		"Expires":               expires,
		"X-Amz-Meta-Color":      "blue",
		"X-Amz-Meta-Mixed-Case": "Value With Spaces",
		"X-Amz-Meta-Unicode":    "grüezi",
		"ETag":                  quotedMD5(data),
		"Accept-Ranges":         "bytes",
		"Content-Length":        strconv.Itoa(len(data)),
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp := s.must(t, http.StatusOK, method, "/attrs/k", nil)
		for name, value := range want {
			if got := resp.header.Get(name); got != value {
				t.Errorf("%s %s = %q, want %q", method, name, got, value)
			}
		}
		modified, err := http.ParseTime(resp.header.Get("Last-Modified"))
		if err != nil {
			t.Errorf("%s Last-Modified %q: %v", method, resp.header.Get("Last-Modified"), err)
		} else if time.Since(modified) > time.Hour || time.Until(modified) > time.Hour {
			t.Errorf("%s Last-Modified = %v, not today", method, modified)
		}
		if names := hasHeaderPrefix(resp.header, "X-Amz-Checksum-"); len(names) != 0 {
			t.Errorf("%s without x-amz-checksum-mode has checksum headers %q", method, names)
		}
		if method == http.MethodGet && !bytes.Equal(resp.body, data) {
			t.Errorf("GET body = %q, want %q", resp.body, data)
		}
		if method == http.MethodHead && len(resp.body) != 0 {
			t.Errorf("HEAD body = %q, want none", resp.body)
		}
	}
}

func TestPutObjectDefaultContentType(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "ctype")
	s.putObject(t, "ctype", "k", []byte("x"))
	resp := s.must(t, http.StatusOK, http.MethodHead, "/ctype/k", nil)
	if got := resp.header.Get("Content-Type"); got != "binary/octet-stream" {
		t.Errorf("Content-Type of an object stored without one = %q, want binary/octet-stream", got)
	}
}

func TestPutObjectStripsAWSChunked(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "enc")
	cases := []struct{ sent, stored string }{
		{"aws-chunked", ""},
		{"gzip, aws-chunked", "gzip"},
		{"aws-chunked,gzip", "gzip"},
		{"AWS-CHUNKED", ""},
		{"gzip", "gzip"},
		{"br, gzip", "br, gzip"},
	}
	for i, tc := range cases {
		key := "k" + strconv.Itoa(i)
		s.putObject(t, "enc", key, []byte("x"), "Content-Encoding", tc.sent)
		resp := s.must(t, http.StatusOK, http.MethodHead, "/enc/"+key, nil)
		if got := resp.header.Get("Content-Encoding"); got != tc.stored {
			t.Errorf("Content-Encoding %q stored as %q, want %q", tc.sent, got, tc.stored)
		}
		if _, ok := resp.header["Content-Encoding"]; tc.stored == "" && ok {
			t.Errorf("Content-Encoding %q left an empty header", tc.sent)
		}
	}
}

func TestPutObjectDigests(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "dig")
	data := []byte("digest checked")

	resp := s.putObject(t, "dig", "md5", data, "Content-MD5", md5Base64(data))
	if got := resp.header.Get("ETag"); got != quotedMD5(data) {
		t.Errorf("ETag = %q, want %q", got, quotedMD5(data))
	}
	resp = s.putObject(t, "dig", "crc", data, "X-Amz-Checksum-Crc32", crc32Base64(data))
	if got := resp.header.Get("X-Amz-Checksum-Crc32"); got != crc32Base64(data) {
		t.Errorf("PUT x-amz-checksum-crc32 = %q, want %q", got, crc32Base64(data))
	}
	resp = s.putObject(t, "dig", "sdk", data, "X-Amz-Sdk-Checksum-Algorithm", "CRC32")
	if got := resp.header.Get("X-Amz-Checksum-Crc32"); got != crc32Base64(data) {
		t.Errorf("PUT with only x-amz-sdk-checksum-algorithm: checksum = %q, want %q", got, crc32Base64(data))
	}

	other := []byte("other bytes")
	cases := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"wrong Content-MD5", []string{"Content-MD5", md5Base64(other)}, http.StatusBadRequest, "BadDigest"},
		{"invalid Content-MD5", []string{"Content-MD5", "not-base64"}, http.StatusBadRequest, "InvalidDigest"},
		{"wrong CRC32", []string{"X-Amz-Checksum-Crc32", crc32Base64(other)}, http.StatusBadRequest, "BadDigest"},
		{"two checksums", []string{"X-Amz-Checksum-Crc32", crc32Base64(data), "X-Amz-Checksum-Sha1", "AAAA"}, http.StatusBadRequest, "InvalidRequest"},
		{"unknown SDK algorithm", []string{"X-Amz-Sdk-Checksum-Algorithm", "MD4"}, http.StatusBadRequest, "InvalidArgument"},
		{"unknown trailer", []string{"X-Amz-Trailer", "x-amz-checksum-md4"}, http.StatusBadRequest, "InvalidArgument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, s.do(t, http.MethodPut, "/dig/rejected", data, tc.headers...), tc.status, tc.code, "/dig/rejected")
		})
	}
	s.must(t, http.StatusNotFound, http.MethodHead, "/dig/rejected", nil)
}

func TestPutObjectErrors(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "errs")
	s.putObject(t, "errs", "exists", []byte("v1"))
	long := string(bytes.Repeat([]byte("k"), 1025))

	expectError(t, s.do(t, http.MethodPut, "/nobucket/k", []byte("x")), http.StatusNotFound, "NoSuchBucket", "/nobucket/k")
	expectError(t, s.do(t, http.MethodPut, "/errs/"+long, []byte("x")), http.StatusBadRequest, "KeyTooLongError", "/errs/"+long)
	expectError(t, s.do(t, http.MethodPut, "/errs/exists", []byte("v2"), "If-None-Match", "*"), http.StatusPreconditionFailed, "PreconditionFailed", "/errs/exists")
	expectError(t, s.do(t, http.MethodPut, "/errs/exists", []byte("v2"), "If-Match", quotedMD5([]byte("v0"))), http.StatusPreconditionFailed, "PreconditionFailed", "/errs/exists")
	expectError(t, s.do(t, http.MethodPut, "/errs/exists", []byte("v2"), "If-None-Match", `"abc"`), http.StatusNotImplemented, "NotImplemented", "/errs/exists")
	expectError(t, s.do(t, http.MethodPut, "/errs/k", []byte("x"), "X-Amz-Acl", "public-read"), http.StatusNotImplemented, "NotImplemented", "/errs/k")

	s.putObject(t, "errs", "exists", []byte("v2"), "If-Match", quotedMD5([]byte("v1")))
	s.putObject(t, "errs", "fresh", []byte("v1"), "If-None-Match", "*")
	if resp := s.must(t, http.StatusOK, http.MethodGet, "/errs/exists", nil); string(resp.body) != "v2" {
		t.Errorf("content after If-Match write = %q, want v2", resp.body)
	}
}

func TestPutObjectKeyEncoding(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "keys")
	key := "dir one/été ü+plus/?.txt"
	path := "/keys/" + (&url.URL{Path: key}).EscapedPath()
	s.must(t, http.StatusOK, http.MethodPut, path, []byte("encoded"))
	if _, err := s.store.Object(t.Context(), "keys", key); err != nil {
		t.Errorf("object stored under %q: %v", key, err)
	}
	if resp := s.must(t, http.StatusOK, http.MethodGet, path, nil); string(resp.body) != "encoded" {
		t.Errorf("GET %s = %q", path, resp.body)
	}
}

func TestGetObjectRange(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "rng")
	data := []byte("0123456789")
	s.putObject(t, "rng", "k", data, "X-Amz-Checksum-Crc32", crc32Base64(data))

	cases := []struct {
		spec, contentRange string
		body               string
	}{
		{"bytes=2-5", "bytes 2-5/10", "2345"},
		{"bytes=7-", "bytes 7-9/10", "789"},
		{"bytes=-3", "bytes 7-9/10", "789"},
		{"bytes=8-100", "bytes 8-9/10", "89"},
		{"bytes=0-0", "bytes 0-0/10", "0"},
	}
	for _, tc := range cases {
		resp := s.must(t, http.StatusPartialContent, http.MethodGet, "/rng/k", nil, "Range", tc.spec, "X-Amz-Checksum-Mode", "ENABLED")
		if got := resp.header.Get("Content-Range"); got != tc.contentRange {
			t.Errorf("Range %s: Content-Range = %q, want %q", tc.spec, got, tc.contentRange)
		}
		if string(resp.body) != tc.body {
			t.Errorf("Range %s: body = %q, want %q", tc.spec, resp.body, tc.body)
		}
		if got := resp.header.Get("Content-Length"); got != strconv.Itoa(len(tc.body)) {
			t.Errorf("Range %s: Content-Length = %q, want %d", tc.spec, got, len(tc.body))
		}
		if names := hasHeaderPrefix(resp.header, "X-Amz-Checksum-"); len(names) != 0 {
			t.Errorf("Range %s: 206 carries checksum headers %q", tc.spec, names)
		}
		if got := resp.header.Get("ETag"); got != quotedMD5(data) {
			t.Errorf("Range %s: ETag = %q", tc.spec, got)
		}
	}

	for _, spec := range []string{"bytes=10-20", "bytes=100-"} {
		expectError(t, s.do(t, http.MethodGet, "/rng/k", nil, "Range", spec), http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "/rng/k")
	}
	// S3 ignores a Range in another unit and sends the whole object.
	if resp := s.must(t, http.StatusOK, http.MethodGet, "/rng/k", nil, "Range", "items=0-1"); string(resp.body) != string(data) {
		t.Errorf("Range items=0-1: body = %q, want the whole object", resp.body)
	}
	resp := s.must(t, http.StatusPartialContent, http.MethodHead, "/rng/k", nil, "Range", "bytes=2-5")
	if got := resp.header.Get("Content-Range"); got != "bytes 2-5/10" {
		t.Errorf("HEAD Range: Content-Range = %q", got)
	}
}

func TestGetObjectChecksumMode(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "sum")
	data := []byte("checksummed")
	s.putObject(t, "sum", "crc", data, "X-Amz-Checksum-Crc32", crc32Base64(data))
	s.putObject(t, "sum", "plain", data)
	sha := sha256.Sum256(data)
	shaBase64 := base64.StdEncoding.EncodeToString(sha[:])

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp := s.must(t, http.StatusOK, method, "/sum/crc", nil, "X-Amz-Checksum-Mode", "ENABLED")
		if got := resp.header.Get("X-Amz-Checksum-Crc32"); got != crc32Base64(data) {
			t.Errorf("%s with checksum mode: x-amz-checksum-crc32 = %q, want %q", method, got, crc32Base64(data))
		}
		if got := resp.header.Get("X-Amz-Checksum-Type"); got != "FULL_OBJECT" {
			t.Errorf("%s with checksum mode: x-amz-checksum-type = %q, want FULL_OBJECT", method, got)
		}
		resp = s.must(t, http.StatusOK, method, "/sum/plain", nil, "X-Amz-Checksum-Mode", "ENABLED")
		if got := resp.header.Get("X-Amz-Checksum-Sha256"); got != shaBase64 {
			t.Errorf("%s of an object without checksums: x-amz-checksum-sha256 = %q, want the content digest %q", method, got, shaBase64)
		}
		resp = s.must(t, http.StatusOK, method, "/sum/crc", nil)
		if names := hasHeaderPrefix(resp.header, "X-Amz-Checksum-"); len(names) != 0 {
			t.Errorf("%s without checksum mode: checksum headers %q", method, names)
		}
	}
}

func TestGetObjectPartNumberSinglePart(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "part")
	data := []byte("single put")
	s.putObject(t, "part", "k", data)

	resp := s.must(t, http.StatusOK, http.MethodGet, "/part/k?partNumber=1", nil)
	if string(resp.body) != string(data) {
		t.Errorf("partNumber=1 body = %q, want the whole object", resp.body)
	}
	if got := resp.header.Get("X-Amz-Mp-Parts-Count"); got != "" {
		t.Errorf("x-amz-mp-parts-count of a single PUT = %q, want none", got)
	}
	expectError(t, s.do(t, http.MethodGet, "/part/k?partNumber=2", nil), http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "/part/k")
	expectError(t, s.do(t, http.MethodGet, "/part/k?partNumber=zero", nil), http.StatusBadRequest, "InvalidArgument", "/part/k")
	expectError(t, s.do(t, http.MethodGet, "/part/k?partNumber=0", nil), http.StatusBadRequest, "InvalidArgument", "/part/k")
}

func TestGetObjectConditions(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "cond")
	data := []byte("conditional")
	s.putObject(t, "cond", "k", data)
	etag := quotedMD5(data)
	lastModified := s.must(t, http.StatusOK, http.MethodHead, "/cond/k", nil).header.Get("Last-Modified")
	modified, err := http.ParseTime(lastModified)
	if err != nil {
		t.Fatalf("Last-Modified %q: %v", lastModified, err)
	}
	before := modified.Add(-time.Hour).Format(http.TimeFormat)
	after := modified.Add(time.Hour).Format(http.TimeFormat)

	cases := []struct {
		name    string
		headers []string
		status  int
	}{
		{"If-None-Match current", []string{"If-None-Match", etag}, http.StatusNotModified},
		{"If-None-Match list", []string{"If-None-Match", `"other", ` + etag}, http.StatusNotModified},
		{"If-None-Match *", []string{"If-None-Match", "*"}, http.StatusNotModified},
		{"If-None-Match other", []string{"If-None-Match", `"other"`}, http.StatusOK},
		{"If-Match current", []string{"If-Match", etag}, http.StatusOK},
		{"If-Match unquoted", []string{"If-Match", etag[1 : len(etag)-1]}, http.StatusOK},
		{"If-Match wrong", []string{"If-Match", `"0123"`}, http.StatusPreconditionFailed},
		{"If-Modified-Since Last-Modified", []string{"If-Modified-Since", lastModified}, http.StatusNotModified},
		{"If-Modified-Since earlier", []string{"If-Modified-Since", before}, http.StatusOK},
		{"If-Unmodified-Since earlier", []string{"If-Unmodified-Since", before}, http.StatusPreconditionFailed},
		{"If-Unmodified-Since later", []string{"If-Unmodified-Since", after}, http.StatusOK},
		// RFC 9110: If-Match takes precedence over If-Unmodified-Since, and
		// If-None-Match over If-Modified-Since.
		{"If-Match current with If-Unmodified-Since earlier", []string{"If-Match", etag, "If-Unmodified-Since", before}, http.StatusOK},
		{"If-None-Match other with If-Modified-Since Last-Modified", []string{"If-None-Match", `"other"`, "If-Modified-Since", lastModified}, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(t, http.MethodGet, "/cond/k", nil, tc.headers...)
			switch tc.status {
			case http.StatusPreconditionFailed:
				expectError(t, resp, tc.status, "PreconditionFailed", "/cond/k")
			case http.StatusNotModified:
				if resp.status != tc.status {
					t.Fatalf("status = %d, want 304", resp.status)
				}
				if len(resp.body) != 0 {
					t.Errorf("304 has a body: %q", resp.body)
				}
				if got := resp.header.Get("ETag"); got != etag {
					t.Errorf("304 ETag = %q, want %q", got, etag)
				}
			default:
				if resp.status != tc.status || string(resp.body) != string(data) {
					t.Errorf("= %d %q, want %d with the content", resp.status, resp.body, tc.status)
				}
			}
		})
	}
}

func TestGetObjectResponseOverrides(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "ovr")
	s.putObject(t, "ovr", "k", []byte("x"), "Content-Type", "text/plain")
	query := url.Values{
		"response-content-type":        {"application/json"},
		"response-content-disposition": {`attachment; filename="x.json"`},
		"response-cache-control":       {"no-store"},
		"response-content-language":    {"fr"},
		"response-content-encoding":    {"identity"},
		"response-expires":             {"Thu, 01 Jan 2037 00:00:00 GMT"},
	}
	resp := s.must(t, http.StatusOK, http.MethodGet, "/ovr/k?"+query.Encode(), nil)
	want := map[string]string{
		"Content-Type":        "application/json",
		"Content-Disposition": `attachment; filename="x.json"`,
		"Cache-Control":       "no-store",
		"Content-Language":    "fr",
		"Content-Encoding":    "identity",
		"Expires":             "Thu, 01 Jan 2037 00:00:00 GMT",
	}
	for name, value := range want {
		if got := resp.header.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if resp := s.must(t, http.StatusOK, http.MethodGet, "/ovr/k", nil); resp.header.Get("Content-Type") != "text/plain" {
		t.Errorf("override was stored: Content-Type = %q", resp.header.Get("Content-Type"))
	}
}

func TestGetObjectMissing(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "miss")
	expectError(t, s.do(t, http.MethodGet, "/miss/nokey", nil), http.StatusNotFound, "NoSuchKey", "/miss/nokey")
	expectError(t, s.do(t, http.MethodGet, "/nobucket/k", nil), http.StatusNotFound, "NoSuchBucket", "/nobucket/k")
	resp := s.do(t, http.MethodHead, "/miss/nokey", nil)
	if resp.status != http.StatusNotFound || len(resp.body) != 0 {
		t.Errorf("HEAD missing key = %d with %d body bytes, want 404 without a body", resp.status, len(resp.body))
	}
}

func TestDeleteObject(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "del")
	s.putObject(t, "del", "k", []byte("x"))
	s.must(t, http.StatusNoContent, http.MethodDelete, "/del/k", nil)
	s.must(t, http.StatusNotFound, http.MethodHead, "/del/k", nil)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/del/k", nil)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/del/never-existed", nil)
	expectError(t, s.do(t, http.MethodDelete, "/nobucket/k", nil), http.StatusNotFound, "NoSuchBucket", "/nobucket/k")
}

func TestRequestIDMatchesErrorBody(t *testing.T) {
	s := newTestServer(t)
	first := s.do(t, http.MethodGet, "/nobucket/k", nil)
	second := s.do(t, http.MethodGet, "/nobucket/k", nil)
	expectError(t, first, http.StatusNotFound, "NoSuchBucket", "/nobucket/k")
	expectError(t, second, http.StatusNotFound, "NoSuchBucket", "/nobucket/k")
	if first.header.Get("X-Amz-Request-Id") == second.header.Get("X-Amz-Request-Id") {
		t.Errorf("two requests share the request ID %q", first.header.Get("X-Amz-Request-Id"))
	}
}
