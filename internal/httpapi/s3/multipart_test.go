package s3_test

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/objects"
)

type initiateResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

type completeResult struct {
	XMLName       xml.Name `xml:"CompleteMultipartUploadResult"`
	Location      string   `xml:"Location"`
	Bucket        string   `xml:"Bucket"`
	Key           string   `xml:"Key"`
	ETag          string   `xml:"ETag"`
	ChecksumCRC32 string   `xml:"ChecksumCRC32"`
	ChecksumType  string   `xml:"ChecksumType"`
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Bucket               string   `xml:"Bucket"`
	Key                  string   `xml:"Key"`
	UploadID             string   `xml:"UploadId"`
	PartNumberMarker     int      `xml:"PartNumberMarker"`
	NextPartNumberMarker int      `xml:"NextPartNumberMarker"`
	MaxParts             int      `xml:"MaxParts"`
	IsTruncated          bool     `xml:"IsTruncated"`
	ChecksumAlgorithm    string   `xml:"ChecksumAlgorithm"`
	Parts                []struct {
		PartNumber    int    `xml:"PartNumber"`
		ETag          string `xml:"ETag"`
		Size          int64  `xml:"Size"`
		ChecksumCRC32 string `xml:"ChecksumCRC32"`
	} `xml:"Part"`
}

type listUploadsResult struct {
	XMLName            xml.Name `xml:"ListMultipartUploadsResult"`
	Bucket             string   `xml:"Bucket"`
	IsTruncated        bool     `xml:"IsTruncated"`
	NextKeyMarker      string   `xml:"NextKeyMarker"`
	NextUploadIDMarker string   `xml:"NextUploadIdMarker"`
	MaxUploads         int      `xml:"MaxUploads"`
	Uploads            []struct {
		Key      string `xml:"Key"`
		UploadID string `xml:"UploadId"`
	} `xml:"Upload"`
}

func (s *testServer) initiate(t *testing.T, bucket, key string, headers ...string) string {
	t.Helper()
	var result initiateResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/"+bucket+"/"+key+"?uploads", nil, headers...), &result)
	if result.Bucket != bucket || result.Key != key || result.UploadID == "" {
		t.Fatalf("InitiateMultipartUploadResult = %+v", result)
	}
	return result.UploadID
}

func (s *testServer) uploadPart(t *testing.T, bucket, key, id string, n int, data []byte, headers ...string) string {
	t.Helper()
	path := fmt.Sprintf("/%s/%s?partNumber=%d&uploadId=%s", bucket, key, n, id)
	resp := s.must(t, http.StatusOK, http.MethodPut, path, data, headers...)
	if got := resp.header.Get("ETag"); got != quotedMD5(data) {
		t.Errorf("part %d ETag = %q, want %q", n, got, quotedMD5(data))
	}
	return resp.header.Get("ETag")
}

// completeBody builds a CompleteMultipartUpload document; each part is a
// number and the literal XML text of its ETag element.
func completeBody(parts ...any) []byte {
	var b strings.Builder
	b.WriteString(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	for i := 0; i+1 < len(parts); i += 2 {
		fmt.Fprintf(&b, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", parts[i], parts[i+1])
	}
	b.WriteString("</CompleteMultipartUpload>")
	return []byte(b.String())
}

func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(h.Sum(nil)), len(parts))
}

func compositeCRC32(parts ...[]byte) string {
	var concatenated []byte
	for _, p := range parts {
		concatenated = binary.BigEndian.AppendUint32(concatenated, crc32.ChecksumIEEE(p))
	}
	return crc32Base64(concatenated) + "-" + strconv.Itoa(len(parts))
}

func TestMultipartUploadFlow(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	id := s.initiate(t, "mpu", "big", "X-Amz-Checksum-Algorithm", "CRC32", "Content-Type", "application/x-tar", "X-Amz-Meta-Origin", "test")
	first := pattern(1, objects.MinPartSize)
	second := pattern(2, 4321)
	etag1 := s.uploadPart(t, "mpu", "big", id, 1, first, "X-Amz-Checksum-Crc32", crc32Base64(first))
	etag2 := s.uploadPart(t, "mpu", "big", id, 2, second)

	var parts listPartsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu/big?uploadId="+id, nil), &parts)
	if parts.Bucket != "mpu" || parts.Key != "big" || parts.UploadID != id || parts.IsTruncated || parts.ChecksumAlgorithm != "CRC32" {
		t.Errorf("ListPartsResult = %+v", parts)
	}
	if len(parts.Parts) != 2 {
		t.Fatalf("parts = %+v, want 2", parts.Parts)
	}
	if p := parts.Parts[0]; p.PartNumber != 1 || p.ETag != etag1 || p.Size != int64(len(first)) || p.ChecksumCRC32 != crc32Base64(first) {
		t.Errorf("part 1 = %+v", p)
	}
	if p := parts.Parts[1]; p.PartNumber != 2 || p.ETag != etag2 || p.Size != int64(len(second)) || p.ChecksumCRC32 != crc32Base64(second) {
		t.Errorf("part 2 = %+v", p)
	}

	var page listPartsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu/big?uploadId="+id+"&max-parts=1", nil), &page)
	if !page.IsTruncated || page.NextPartNumberMarker != 1 || len(page.Parts) != 1 || page.MaxParts != 1 {
		t.Errorf("max-parts=1 page = truncated %v next %d parts %d max %d", page.IsTruncated, page.NextPartNumberMarker, len(page.Parts), page.MaxParts)
	}
	var rest listPartsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu/big?uploadId="+id+"&part-number-marker=1", nil), &rest)
	if rest.IsTruncated || len(rest.Parts) != 1 || rest.Parts[0].PartNumber != 2 || rest.PartNumberMarker != 1 {
		t.Errorf("page after marker 1 = %+v", rest)
	}

	var uploads listUploadsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu?uploads", nil), &uploads)
	if uploads.Bucket != "mpu" || len(uploads.Uploads) != 1 || uploads.Uploads[0].Key != "big" || uploads.Uploads[0].UploadID != id {
		t.Errorf("ListMultipartUploadsResult = %+v", uploads)
	}

	var result completeResult
	body := completeBody(1, etag1, 2, etag2)
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/mpu/big?uploadId="+id, body), &result)
	if result.ETag != multipartETag(first, second) {
		t.Errorf("ETag = %q, want %q", result.ETag, multipartETag(first, second))
	}
	if result.Bucket != "mpu" || result.Key != "big" || result.Location == "" {
		t.Errorf("CompleteMultipartUploadResult = %+v", result)
	}
	if result.ChecksumCRC32 != compositeCRC32(first, second) || result.ChecksumType != "COMPOSITE" {
		t.Errorf("checksum = %q %q, want %q COMPOSITE", result.ChecksumCRC32, result.ChecksumType, compositeCRC32(first, second))
	}

	resp := s.must(t, http.StatusOK, http.MethodGet, "/mpu/big", nil)
	if string(resp.body) != string(slices.Concat(first, second)) {
		t.Errorf("object content differs from the parts")
	}
	if resp.header.Get("ETag") != multipartETag(first, second) || resp.header.Get("X-Amz-Mp-Parts-Count") != "2" {
		t.Errorf("GET ETag %q parts count %q", resp.header.Get("ETag"), resp.header.Get("X-Amz-Mp-Parts-Count"))
	}
	if resp.header.Get("Content-Type") != "application/x-tar" || resp.header.Get("X-Amz-Meta-Origin") != "test" {
		t.Errorf("attributes = %q %q, want those of CreateMultipartUpload", resp.header.Get("Content-Type"), resp.header.Get("X-Amz-Meta-Origin"))
	}
	resp = s.must(t, http.StatusOK, http.MethodHead, "/mpu/big", nil, "X-Amz-Checksum-Mode", "ENABLED")
	if resp.header.Get("X-Amz-Checksum-Crc32") != compositeCRC32(first, second) || resp.header.Get("X-Amz-Checksum-Type") != "COMPOSITE" {
		t.Errorf("HEAD checksum = %q %q", resp.header.Get("X-Amz-Checksum-Crc32"), resp.header.Get("X-Amz-Checksum-Type"))
	}
	if got := resp.header.Get("X-Amz-Checksum-Sha256"); got != "" {
		t.Errorf("composite object has a full-object SHA-256 header %q", got)
	}

	resp = s.must(t, http.StatusPartialContent, http.MethodGet, "/mpu/big?partNumber=2", nil, "X-Amz-Checksum-Mode", "ENABLED")
	if string(resp.body) != string(second) {
		t.Errorf("partNumber=2 body differs from part 2")
	}
	want := fmt.Sprintf("bytes %d-%d/%d", len(first), len(first)+len(second)-1, len(first)+len(second))
	if got := resp.header.Get("Content-Range"); got != want {
		t.Errorf("partNumber=2 Content-Range = %q, want %q", got, want)
	}
	if got := resp.header.Get("X-Amz-Mp-Parts-Count"); got != "2" {
		t.Errorf("partNumber=2 x-amz-mp-parts-count = %q, want 2", got)
	}
	if names := hasHeaderPrefix(resp.header, "X-Amz-Checksum-"); len(names) != 0 {
		t.Errorf("206 of partNumber=2 carries checksum headers %q", names)
	}

	expectError(t, s.do(t, http.MethodGet, "/mpu/big?uploadId="+id, nil), http.StatusNotFound, "NoSuchUpload", "/mpu/big")
	var remaining listUploadsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu?uploads", nil), &remaining)
	if len(remaining.Uploads) != 0 {
		t.Errorf("uploads after complete = %+v", remaining.Uploads)
	}
}

func TestMultipartCompleteETagForms(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	data := []byte("single part")
	bare := quotedMD5(data)[1 : len(quotedMD5(data))-1]
	forms := map[string]string{
		"quoted":      `"` + bare + `"`,
		"unquoted":    bare,
		"&#34;":       "&#34;" + bare + "&#34;",
		"&quot;":      "&quot;" + bare + "&quot;",
		"&amp;#34;":   "&amp;#34;" + bare + "&amp;#34;",
		"with spaces": "  \"" + bare + "\"\n",
	}
	for name, etag := range forms {
		t.Run(name, func(t *testing.T) {
			id := s.initiate(t, "mpu", "k")
			s.uploadPart(t, "mpu", "k", id, 1, data)
			var result completeResult
			decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/mpu/k?uploadId="+id, completeBody(1, etag)), &result)
			if result.ETag != multipartETag(data) {
				t.Errorf("ETag = %q, want %q", result.ETag, multipartETag(data))
			}
		})
	}
}

func TestMultipartCompleteErrors(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	id := s.initiate(t, "mpu", "k")
	small1 := s.uploadPart(t, "mpu", "k", id, 1, []byte("one"))
	small2 := s.uploadPart(t, "mpu", "k", id, 2, []byte("two"))
	path := "/mpu/k?uploadId=" + id

	cases := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"descending", completeBody(2, small2, 1, small1), http.StatusBadRequest, "InvalidPartOrder"},
		{"unknown part", completeBody(3, small1), http.StatusBadRequest, "InvalidPart"},
		{"wrong ETag", completeBody(1, small2), http.StatusBadRequest, "InvalidPart"},
		{"small part not last", completeBody(1, small1, 2, small2), http.StatusBadRequest, "EntityTooSmall"},
		{"no parts", completeBody(), http.StatusBadRequest, "MalformedXML"},
		{"malformed", []byte("<CompleteMultipartUpload><Part>"), http.StatusBadRequest, "MalformedXML"},
		{"non-numeric part", []byte("<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"), http.StatusBadRequest, "MalformedXML"},
		{"empty body", []byte{}, http.StatusBadRequest, "MalformedXML"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, s.do(t, http.MethodPost, path, tc.body), tc.status, tc.code, "/mpu/k")
		})
	}
	expectError(t, s.do(t, http.MethodPost, "/mpu/k?uploadId=unknown", completeBody(1, small1)), http.StatusNotFound, "NoSuchUpload", "/mpu/k")
	expectError(t, s.do(t, http.MethodPost, "/mpu/other?uploadId="+id, completeBody(1, small1)), http.StatusNotFound, "NoSuchUpload", "/mpu/other")

	// The upload survives the rejected completions.
	var result completeResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, path, completeBody(2, small2)), &result)
	if result.ETag != multipartETag([]byte("two")) {
		t.Errorf("ETag = %q", result.ETag)
	}
}

func TestUploadPartErrors(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	id := s.initiate(t, "mpu", "k")
	for _, n := range []string{"0", "10001", "x", ""} {
		path := "/mpu/k?partNumber=" + n + "&uploadId=" + id
		expectError(t, s.do(t, http.MethodPut, path, []byte("x")), http.StatusBadRequest, "InvalidArgument", "/mpu/k")
	}
	expectError(t, s.do(t, http.MethodPut, "/mpu/k?partNumber=1&uploadId=unknown", []byte("x")), http.StatusNotFound, "NoSuchUpload", "/mpu/k")
	expectError(t, s.do(t, http.MethodPut, "/mpu/k?partNumber=1&uploadId="+id, []byte("x"), "Content-MD5", md5Base64([]byte("y"))), http.StatusBadRequest, "BadDigest", "/mpu/k")
	expectError(t, s.do(t, http.MethodPost, "/nobucket/k?uploads", nil), http.StatusNotFound, "NoSuchBucket", "/nobucket/k")
	expectError(t, s.do(t, http.MethodPost, "/mpu/k?uploads", nil, "X-Amz-Checksum-Algorithm", "MD5"), http.StatusBadRequest, "InvalidArgument", "/mpu/k")
}

func TestAbortMultipartUpload(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	id := s.initiate(t, "mpu", "k")
	s.uploadPart(t, "mpu", "k", id, 1, []byte("part"))
	s.must(t, http.StatusNoContent, http.MethodDelete, "/mpu/k?uploadId="+id, nil)

	expectError(t, s.do(t, http.MethodGet, "/mpu/k?uploadId="+id, nil), http.StatusNotFound, "NoSuchUpload", "/mpu/k")
	expectError(t, s.do(t, http.MethodPut, "/mpu/k?partNumber=2&uploadId="+id, []byte("x")), http.StatusNotFound, "NoSuchUpload", "/mpu/k")
	expectError(t, s.do(t, http.MethodDelete, "/mpu/k?uploadId="+id, nil), http.StatusNotFound, "NoSuchUpload", "/mpu/k")
	if total := s.storedBytes(t); total != 0 {
		t.Errorf("stored bytes after abort = %d, want 0", total)
	}
	s.must(t, http.StatusNoContent, http.MethodDelete, "/mpu", nil)
}

func TestListPartsAndUploadsPageSizeZero(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	id := s.initiate(t, "mpu", "k")
	s.uploadPart(t, "mpu", "k", id, 1, []byte("part"))

	var parts listPartsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu/k?uploadId="+id+"&max-parts=0", nil), &parts)
	if len(parts.Parts) != 0 || !parts.IsTruncated {
		t.Errorf("max-parts=0 = %d parts, truncated %v; want none, truncated", len(parts.Parts), parts.IsTruncated)
	}
	var uploads listUploadsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/mpu?uploads&max-uploads=0", nil), &uploads)
	if len(uploads.Uploads) != 0 || !uploads.IsTruncated {
		t.Errorf("max-uploads=0 = %d uploads, truncated %v; want none, truncated", len(uploads.Uploads), uploads.IsTruncated)
	}
}

func TestListMultipartUploadsPages(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	var want []string
	for _, key := range []string{"c", "a", "b"} {
		s.initiate(t, "mpu", key)
	}
	want = []string{"a", "b", "c"}

	var got []string
	keyMarker, idMarker := "", ""
	for pages := 0; pages < 5; pages++ {
		var page listUploadsResult
		path := "/mpu?uploads&max-uploads=2&key-marker=" + keyMarker + "&upload-id-marker=" + idMarker
		decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, path, nil), &page)
		for _, u := range page.Uploads {
			got = append(got, u.Key)
		}
		if !page.IsTruncated {
			break
		}
		keyMarker, idMarker = page.NextKeyMarker, page.NextUploadIDMarker
	}
	if !slices.Equal(got, want) {
		t.Errorf("uploads over pages = %q, want %q", got, want)
	}
}

func TestUploadPartCopy(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	source := pattern(3, 1000)
	s.putObject(t, "mpu", "src", source)
	id := s.initiate(t, "mpu", "dst")

	var result struct {
		XMLName xml.Name `xml:"CopyPartResult"`
		ETag    string   `xml:"ETag"`
	}
	path := "/mpu/dst?partNumber=1&uploadId=" + id
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPut, path, nil, "X-Amz-Copy-Source", "mpu/src", "X-Amz-Copy-Source-Range", "bytes=100-199"), &result)
	if result.ETag != quotedMD5(source[100:200]) {
		t.Errorf("CopyPartResult ETag = %q, want %q", result.ETag, quotedMD5(source[100:200]))
	}
	// Unlike a GET Range, a copy range must lie within the source: S3
	// rejects a last byte past the end instead of shortening the range.
	for _, spec := range []string{"bytes=900-1000", "bytes=-10", "bytes=100-", "bytes=5000-5001", "bytes=20-10", "items=0-1"} {
		resp := s.do(t, http.MethodPut, path, nil, "X-Amz-Copy-Source", "mpu/src", "X-Amz-Copy-Source-Range", spec)
		expectError(t, resp, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "/mpu/dst")
	}
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/mpu/dst?uploadId="+id, completeBody(1, result.ETag)), new(completeResult))
	if resp := s.must(t, http.StatusOK, http.MethodGet, "/mpu/dst", nil); string(resp.body) != string(source[100:200]) {
		t.Errorf("object from a copied part differs from the source range")
	}
}

func TestMultipartFullObjectChecksum(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "mpu")
	resp := s.must(t, http.StatusOK, http.MethodPost, "/mpu/full?uploads", nil, "X-Amz-Checksum-Algorithm", "CRC32", "X-Amz-Checksum-Type", "FULL_OBJECT")
	if resp.header.Get("X-Amz-Checksum-Algorithm") != "CRC32" || resp.header.Get("X-Amz-Checksum-Type") != "FULL_OBJECT" {
		t.Errorf("CreateMultipartUpload checksum headers = %q %q", resp.header.Get("X-Amz-Checksum-Algorithm"), resp.header.Get("X-Amz-Checksum-Type"))
	}
	var initiated initiateResult
	decodeXML(t, resp, &initiated)
	id := initiated.UploadID
	first := pattern(6, objects.MinPartSize+3)
	second := pattern(7, 777)
	etag1 := s.uploadPart(t, "mpu", "full", id, 1, first)
	etag2 := s.uploadPart(t, "mpu", "full", id, 2, second, "X-Amz-Checksum-Crc32", crc32Base64(second))

	var result completeResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodPost, "/mpu/full?uploadId="+id, completeBody(1, etag1, 2, etag2)), &result)
	whole := slices.Concat(first, second)
	if result.ChecksumCRC32 != crc32Base64(whole) || result.ChecksumType != "FULL_OBJECT" {
		t.Errorf("checksum = %q %q, want the CRC32 of the whole object %q FULL_OBJECT", result.ChecksumCRC32, result.ChecksumType, crc32Base64(whole))
	}
	head := s.must(t, http.StatusOK, http.MethodHead, "/mpu/full", nil, "X-Amz-Checksum-Mode", "ENABLED")
	if head.header.Get("X-Amz-Checksum-Crc32") != crc32Base64(whole) || head.header.Get("X-Amz-Checksum-Type") != "FULL_OBJECT" {
		t.Errorf("HEAD checksum = %q %q", head.header.Get("X-Amz-Checksum-Crc32"), head.header.Get("X-Amz-Checksum-Type"))
	}
	expectError(t, s.do(t, http.MethodPut, "/mpu/full?partNumber=3&uploadId=none", []byte("x")), http.StatusNotFound, "NoSuchUpload", "/mpu/full")
}
