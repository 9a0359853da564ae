package s3_test

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/checksum"
)

// unsignedTrailer is the payload form that the AWS CLI and boto3 send over
// HTTPS: aws-chunked without chunk signatures, ending in a checksum trailer.
const unsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

// trailerSend sends data as one aws-chunked chunk whose trailer line is
// "name:value", with x-amz-trailer naming it.
func trailerSend(t *testing.T, s *testServer, key oneKey, method, path string, data []byte, name, value string) response {
	t.Helper()
	body := strconv.FormatInt(int64(len(data)), 16) + "\r\n" + string(data) + "\r\n0\r\n" + name + ":" + value + "\r\n\r\n"
	return signedSend(t, s, key, method, path, []byte(body), unsignedTrailer,
		"Content-Encoding", "aws-chunked",
		"X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)),
		"X-Amz-Trailer", name)
}

// TestPutObjectTrailerChecksumVerified checks that the object store, which
// takes the trailer comparison over from the body, rejects a wrong trailer.
func TestPutObjectTrailerChecksumVerified(t *testing.T) {
	s, key := signedServer(t)
	if resp := signedPut(t, s, key, "/trailers", nil, hexSHA256(nil)); resp.status != http.StatusOK {
		t.Fatalf("create bucket = %d: %s", resp.status, resp.body)
	}
	data := []byte(strings.Repeat("trailer checksum ", 1000))

	for _, alg := range []checksum.Algorithm{checksum.CRC32, checksum.SHA256} {
		name := alg.HeaderName()
		right := checksum.Encode(alg.Sum(data))
		wrong := checksum.Encode(alg.Sum([]byte("other bytes")))

		good := "/trailers/good-" + alg.String()
		resp := trailerSend(t, s, key, http.MethodPut, good, data, name, right)
		if resp.status != http.StatusOK {
			t.Fatalf("PUT with the right %s trailer = %d: %s", alg, resp.status, resp.body)
		}
		if got := resp.header.Get(name); got != right {
			t.Errorf("PUT with the right %s trailer: %s = %q, want %q", alg, name, got, right)
		}
		o, err := s.store.Object(t.Context(), "trailers", strings.TrimPrefix(good, "/trailers/"))
		if err != nil || o.Checksums[alg.String()] != right {
			t.Errorf("object with the right %s trailer = %+v, %v; want checksum %s", alg, o, err, right)
		}

		bad := "/trailers/bad-" + alg.String()
		resp = trailerSend(t, s, key, http.MethodPut, bad, data, name, wrong)
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "<Code>BadDigest</Code>") {
			t.Errorf("PUT with a wrong %s trailer = %d %s, want 400 BadDigest", alg, resp.status, resp.body)
		}
		if o, err := s.store.Object(t.Context(), "trailers", strings.TrimPrefix(bad, "/trailers/")); err == nil {
			t.Errorf("the PUT with a wrong %s trailer stored %+v", alg, o)
		}
	}
}

// TestUploadPartTrailerChecksumVerified checks that a part whose CRC32
// trailer does not match is rejected and not recorded.
func TestUploadPartTrailerChecksumVerified(t *testing.T) {
	s, key := signedServer(t)
	if resp := signedPut(t, s, key, "/parts", nil, hexSHA256(nil)); resp.status != http.StatusOK {
		t.Fatalf("create bucket = %d: %s", resp.status, resp.body)
	}
	resp := signedSend(t, s, key, http.MethodPost, "/parts/big?uploads", nil, hexSHA256(nil), "X-Amz-Checksum-Algorithm", "CRC32")
	var created struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(resp.body, &created); resp.status != http.StatusOK || err != nil {
		t.Fatalf("CreateMultipartUpload = %d %s, %v", resp.status, resp.body, err)
	}
	data := []byte(strings.Repeat("part ", 1000))
	name := checksum.CRC32.HeaderName()
	path := "/parts/big?partNumber=1&uploadId=" + created.UploadID

	resp = trailerSend(t, s, key, http.MethodPut, path, data, name, checksum.Encode(checksum.CRC32.Sum([]byte("other bytes"))))
	if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "<Code>BadDigest</Code>") {
		t.Errorf("UploadPart with a wrong trailer = %d %s, want 400 BadDigest", resp.status, resp.body)
	}
	if parts, err := s.store.Parts(t.Context(), created.UploadID, 0, 10); err != nil || len(parts) != 0 {
		t.Errorf("parts after the rejected UploadPart = %+v, %v; want none", parts, err)
	}

	right := checksum.Encode(checksum.CRC32.Sum(data))
	resp = trailerSend(t, s, key, http.MethodPut, path, data, name, right)
	if resp.status != http.StatusOK || resp.header.Get(name) != right {
		t.Fatalf("UploadPart with the right trailer = %d, %s %q: %s", resp.status, name, resp.header.Get(name), resp.body)
	}
}
