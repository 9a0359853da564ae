package s3_test

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

type deleteResult struct {
	XMLName xml.Name `xml:"DeleteResult"`
	Deleted []struct {
		Key string `xml:"Key"`
	} `xml:"Deleted"`
	Errors []struct {
		Key     string `xml:"Key"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
}

// deleteBody builds a DeleteObjects document naming keys.
func deleteBody(quiet bool, keys ...string) []byte {
	var b strings.Builder
	b.WriteString(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	if quiet {
		b.WriteString("<Quiet>true</Quiet>")
	}
	for _, key := range keys {
		b.WriteString("<Object><Key>")
		_ = xml.EscapeText(&b, []byte(key))
		b.WriteString("</Key></Object>")
	}
	b.WriteString("</Delete>")
	return []byte(b.String())
}

func (s *testServer) keys(t *testing.T, bucket string) []string {
	t.Helper()
	var result listBucketResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/"+bucket+"?list-type=2", nil), &result)
	var keys []string
	for _, c := range result.Contents {
		keys = append(keys, c.Key)
	}
	return keys
}

func TestDeleteObjectsVerbose(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "bulk")
	for _, key := range []string{"a", "b", "keep"} {
		s.putObject(t, "bulk", key, []byte(key))
	}
	body := deleteBody(false, "a", "b", "missing")
	var result deleteResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/bulk?delete", body, "X-Amz-Checksum-Crc32", crc32Base64(body)), &result)
	var deleted []string
	for _, d := range result.Deleted {
		deleted = append(deleted, d.Key)
	}
	if want := []string{"a", "b", "missing"}; !slices.Equal(deleted, want) {
		t.Errorf("Deleted = %q, want %q", deleted, want)
	}
	if len(result.Errors) != 0 {
		t.Errorf("Errors = %+v, want none", result.Errors)
	}
	if keys := s.keys(t, "bulk"); !slices.Equal(keys, []string{"keep"}) {
		t.Errorf("keys after delete = %q, want [keep]", keys)
	}
}

func TestDeleteObjectsQuiet(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "bulk")
	s.putObject(t, "bulk", "a", []byte("a"))
	body := deleteBody(true, "a", "")
	var result deleteResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/bulk?delete", body, "Content-MD5", md5Base64(body)), &result)
	if len(result.Deleted) != 0 {
		t.Errorf("Quiet reply lists Deleted %+v, want none", result.Deleted)
	}
	// Quiet mode still reports failures: an empty key is invalid.
	if len(result.Errors) != 1 || result.Errors[0].Key != "" || result.Errors[0].Code != "InvalidArgument" {
		t.Errorf("Errors = %+v, want one InvalidArgument for the empty key", result.Errors)
	}
	if keys := s.keys(t, "bulk"); len(keys) != 0 {
		t.Errorf("keys after delete = %q", keys)
	}
}

func TestDeleteObjectsPerKeyErrors(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "bulk")
	long := strings.Repeat("k", 1025)
	var result deleteResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/bulk?delete", deleteBody(false, long, "fine")), &result)
	if len(result.Errors) != 1 || result.Errors[0].Code != "KeyTooLongError" || result.Errors[0].Key != long {
		t.Errorf("Errors = %+v, want KeyTooLongError for the long key", result.Errors)
	}
	if len(result.Deleted) != 1 || result.Deleted[0].Key != "fine" {
		t.Errorf("Deleted = %+v, want [fine]", result.Deleted)
	}
}

func TestDeleteObjectsDigests(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "bulk")
	s.putObject(t, "bulk", "a", []byte("a"))
	body := deleteBody(false, "a")
	other := deleteBody(false, "b")

	rejected := []struct {
		name    string
		headers []string
		code    string
	}{
		{"wrong Content-MD5", []string{"Content-MD5", md5Base64(other)}, "BadDigest"},
		{"invalid Content-MD5", []string{"Content-MD5", "AAAA"}, "InvalidDigest"},
		{"wrong CRC32", []string{"X-Amz-Checksum-Crc32", crc32Base64(other)}, "BadDigest"},
		{"right MD5 and wrong CRC32", []string{"Content-MD5", md5Base64(body), "X-Amz-Checksum-Crc32", crc32Base64(other)}, "BadDigest"},
	}
	for _, tc := range rejected {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, s.do(t, http.MethodPost, "/bulk?delete", body, tc.headers...), http.StatusBadRequest, tc.code, "/bulk")
		})
	}
	if keys := s.keys(t, "bulk"); !slices.Equal(keys, []string{"a"}) {
		t.Fatalf("keys after rejected deletes = %q, want [a]", keys)
	}

	accepted := [][]string{
		{"Content-MD5", md5Base64(body)},
		{"X-Amz-Checksum-Crc32", crc32Base64(body), "X-Amz-Sdk-Checksum-Algorithm", "CRC32"},
		nil, // neither, as some clients send it
	}
	for _, headers := range accepted {
		s.putObject(t, "bulk", "a", []byte("a"))
		var result deleteResult
		decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/bulk?delete", body, headers...), &result)
		if len(result.Deleted) != 1 {
			t.Errorf("headers %q: Deleted = %+v, want [a]", headers, result.Deleted)
		}
		if keys := s.keys(t, "bulk"); len(keys) != 0 {
			t.Errorf("headers %q: keys after delete = %q", headers, keys)
		}
	}
}

func TestDeleteObjectsMalformed(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "bulk")
	var thousandOne []string
	for i := range 1001 {
		thousandOne = append(thousandOne, fmt.Sprintf("key-%d", i))
	}
	var thousand = thousandOne[:1000]

	cases := []struct {
		name string
		body []byte
	}{
		{"unclosed element", []byte(`<Delete><Object><Key>a</Key></Object>`)},
		{"not XML", []byte(`{"keys": ["a"]}`)},
		{"empty body", []byte{}},
		{"no objects", []byte(`<Delete></Delete>`)},
		{"wrong root", []byte(`<Remove><Object><Key>a</Key></Object></Remove>`)},
		{"1001 keys", deleteBody(true, thousandOne...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, s.do(t, http.MethodPost, "/bulk?delete", tc.body), http.StatusBadRequest, "MalformedXML", "/bulk")
		})
	}
	// 1000 keys is the limit, and a document without a namespace is accepted
	// as minio-go sends it.
	var result deleteResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/bulk?delete", deleteBody(false, thousand...)), &result)
	if len(result.Deleted) != 1000 {
		t.Errorf("Deleted = %d entries, want 1000", len(result.Deleted))
	}
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/bulk/?delete=", []byte(`<Delete><Object><Key>x</Key></Object></Delete>`)), &result)
	expectError(t, s.do(t, http.MethodPost, "/nobucket?delete", deleteBody(false, "a")), http.StatusNotFound, "NoSuchBucket", "/nobucket")
}
