package s3_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/objects"
)

// serveRecorded runs one request through handler with the given Host.
func serveRecorded(t *testing.T, handler http.Handler, method, host, target string, body []byte, headers ...string) response {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, bytes.NewReader(body))
	req.Host = host
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func TestVirtualHostedStyle(t *testing.T) {
	handler, _, store := newHandlerWith(t, allowAll{}, s3.Options{Region: testRegion, Domain: "s3.example.test"})
	if resp := serveRecorded(t, handler, http.MethodPut, "photos.s3.example.test:9000", "/", nil); resp.status != http.StatusOK {
		t.Fatalf("create bucket by host = %d: %s", resp.status, resp.body)
	}
	if resp := serveRecorded(t, handler, http.MethodPut, "PHOTOS.S3.EXAMPLE.TEST", "/2024/cat.jpg", []byte("meow")); resp.status != http.StatusOK {
		t.Fatalf("put object by host = %d: %s", resp.status, resp.body)
	}
	if _, err := store.Object(t.Context(), "photos", "2024/cat.jpg"); err != nil {
		t.Errorf("object written by host: %v", err)
	}
	// Path style still works on the bare endpoint.
	resp := serveRecorded(t, handler, http.MethodGet, "s3.example.test", "/photos/2024/cat.jpg", nil)
	if resp.status != http.StatusOK || string(resp.body) != "meow" {
		t.Errorf("path-style GET = %d %q", resp.status, resp.body)
	}
	resp = serveRecorded(t, handler, http.MethodGet, "photos.s3.example.test", "/?list-type=2", nil)
	if resp.status != http.StatusOK || !bytes.Contains(resp.body, []byte("<Key>2024/cat.jpg</Key>")) {
		t.Errorf("virtual-hosted list = %d %s", resp.status, resp.body)
	}
}

// trailerAuth passes the body through and returns fixed aws-chunked
// trailers, as the signature verifier does after decoding a body.
type trailerAuth struct{ trailers map[string]string }

func (a trailerAuth) Authenticate(r *http.Request, bucket string) (s3.Auth, error) {
	return s3.Auth{
		Identity:      identity.Root("test"),
		Body:          r.Body,
		DecodedLength: r.ContentLength,
		Trailer:       func(name string) string { return a.trailers[name] },
	}, nil
}

func TestTrailerChecksum(t *testing.T) {
	data := []byte("body with a trailing checksum")
	for _, tc := range []struct {
		name    string
		trailer string
		status  int
	}{
		{"right", crc32Base64(data), http.StatusOK},
		{"wrong", crc32Base64([]byte("other")), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := trailerAuth{trailers: map[string]string{"x-amz-checksum-crc32": tc.trailer}}
			handler, _, store := newHandlerWith(t, auth, s3.Options{Region: testRegion})
			serveRecorded(t, handler, http.MethodPut, "localhost", "/trailer", nil)
			resp := serveRecorded(t, handler, http.MethodPut, "localhost", "/trailer/k", data,
				"X-Amz-Trailer", "x-amz-checksum-crc32", "Content-Encoding", "aws-chunked")
			if resp.status != tc.status {
				t.Fatalf("PUT with %s trailer = %d, want %d: %s", tc.name, resp.status, tc.status, resp.body)
			}
			o, err := store.Object(t.Context(), "trailer", "k")
			if tc.status != http.StatusOK {
				expectError(t, resp, tc.status, "BadDigest", "/trailer/k")
				if !errors.Is(err, objects.ErrNoSuchKey) {
					t.Errorf("object after a wrong trailer: %v, want ErrNoSuchKey", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("get object: %v", err)
			}
			if o.Checksums["CRC32"] != crc32Base64(data) {
				t.Errorf("stored CRC32 = %q, want %q", o.Checksums["CRC32"], crc32Base64(data))
			}
			if got := resp.header.Get("X-Amz-Checksum-Crc32"); got != crc32Base64(data) {
				t.Errorf("response checksum = %q", got)
			}
			if _, ok := o.Headers["Content-Encoding"]; ok {
				t.Errorf("aws-chunked stored as Content-Encoding %q", o.Headers["Content-Encoding"])
			}
		})
	}
}

// denyAll rejects every request as the signature verifier rejects a bad signature.
type denyAll struct{}

func (denyAll) Authenticate(r *http.Request, bucket string) (s3.Auth, error) {
	return s3.Auth{}, &s3.Error{Code: "SignatureDoesNotMatch", Status: http.StatusForbidden, Message: "The request signature we calculated does not match the signature you provided."}
}

func TestAuthenticationFailure(t *testing.T) {
	handler, _, store := newHandlerWith(t, denyAll{}, s3.Options{Region: testRegion})
	resp := serveRecorded(t, handler, http.MethodPut, "localhost", "/denied", nil)
	expectError(t, resp, http.StatusForbidden, "SignatureDoesNotMatch", "/denied")
	if _, err := store.Bucket(t.Context(), "denied"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("bucket after a rejected request: %v, want ErrNoSuchBucket", err)
	}
}

func TestDotSegmentKeys(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "dots")
	for _, key := range []string{"a//b", "trailing/", "..x"} {
		s.putObject(t, "dots", key, []byte(key))
		if resp := s.must(t, http.StatusOK, http.MethodGet, "/dots/"+key, nil); string(resp.body) != key {
			t.Errorf("GET %q = %q", key, resp.body)
		}
	}
	for _, key := range []string{"../x", "./y", "a/../b"} {
		expectError(t, s.do(t, http.MethodPut, "/dots/"+key, []byte(key)), http.StatusBadRequest, "InvalidArgument", "/dots/"+key)
	}
	listed, err := s.store.ListObjects(t.Context(), objects.ListInput{Bucket: "dots", MaxKeys: 100})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range listed.Objects {
		keys = append(keys, o.Key)
	}
	if want := []string{"..x", "a//b", "trailing/"}; !slices.Equal(keys, want) {
		t.Errorf("stored keys = %q, want %q", keys, want)
	}
}

func TestUserMetadataTooLarge(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "meta")
	big := strings.Repeat("v", 2100)
	expectError(t, s.do(t, http.MethodPut, "/meta/k", []byte("x"), "X-Amz-Meta-Big", big), http.StatusBadRequest, "MetadataTooLarge", "/meta/k")
	s.putObject(t, "meta", "k", []byte("x"), "X-Amz-Meta-Fits", strings.Repeat("v", 1900))
}
