package s3_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"testing"

	"github.com/cofferhq/coffer/internal/objects"
)

type objectAttributes struct {
	XMLName      xml.Name `xml:"GetObjectAttributesResponse"`
	ETag         string   `xml:"ETag"`
	StorageClass string   `xml:"StorageClass"`
	ObjectSize   *int64   `xml:"ObjectSize"`
	Checksum     *struct {
		ChecksumCRC32  string `xml:"ChecksumCRC32"`
		ChecksumSHA256 string `xml:"ChecksumSHA256"`
		ChecksumType   string `xml:"ChecksumType"`
	} `xml:"Checksum"`
	ObjectParts *struct {
		TotalPartsCount int `xml:"PartsCount"`
	} `xml:"ObjectParts"`
}

func TestGetObjectAttributes(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "attr")
	data := []byte("attributes")
	s.putObject(t, "attr", "k", data, "X-Amz-Checksum-Crc32", crc32Base64(data))

	var result objectAttributes
	resp := s.must(t, http.StatusOK, http.MethodGet, "/attr/k?attributes", nil, "X-Amz-Object-Attributes", "ETag,ObjectSize,Checksum")
	decodeXML(t, resp, &result)
	etag := quotedMD5(data)
	if result.ETag != etag[1:len(etag)-1] {
		t.Errorf("ETag = %q, want the unquoted %q", result.ETag, etag[1:len(etag)-1])
	}
	if result.ObjectSize == nil || *result.ObjectSize != int64(len(data)) {
		t.Errorf("ObjectSize = %v, want %d", result.ObjectSize, len(data))
	}
	if result.Checksum == nil {
		t.Fatalf("no Checksum element")
	}
	if result.Checksum.ChecksumCRC32 != crc32Base64(data) || result.Checksum.ChecksumType != "FULL_OBJECT" {
		t.Errorf("Checksum = %+v, want CRC32 %q FULL_OBJECT", *result.Checksum, crc32Base64(data))
	}
	sha := sha256.Sum256(data)
	if result.Checksum.ChecksumSHA256 != base64.StdEncoding.EncodeToString(sha[:]) {
		t.Errorf("ChecksumSHA256 = %q, want the content digest", result.Checksum.ChecksumSHA256)
	}
	if result.StorageClass != "" || result.ObjectParts != nil {
		t.Errorf("attributes not asked for are present: StorageClass %q ObjectParts %v", result.StorageClass, result.ObjectParts)
	}
	if _, err := http.ParseTime(resp.header.Get("Last-Modified")); err != nil {
		t.Errorf("Last-Modified %q: %v", resp.header.Get("Last-Modified"), err)
	}

	// The header may also repeat, one attribute per line.
	var partial objectAttributes
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/attr/k?attributes", nil,
		"X-Amz-Object-Attributes", "StorageClass", "X-Amz-Object-Attributes", "ObjectSize"), &partial)
	if partial.StorageClass != "STANDARD" || partial.ObjectSize == nil || partial.ETag != "" || partial.Checksum != nil {
		t.Errorf("StorageClass and ObjectSize only = %+v", partial)
	}

	expectError(t, s.do(t, http.MethodGet, "/attr/k?attributes", nil), http.StatusBadRequest, "InvalidArgument", "/attr/k")
	expectError(t, s.do(t, http.MethodGet, "/attr/missing?attributes", nil, "X-Amz-Object-Attributes", "ETag"), http.StatusNotFound, "NoSuchKey", "/attr/missing")
}

func TestGetObjectAttributesMultipart(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "attr")
	id := s.initiate(t, "attr", "mp", "X-Amz-Checksum-Algorithm", "CRC32")
	first := pattern(5, objects.MinPartSize)
	second := []byte("tail")
	etag1 := s.uploadPart(t, "attr", "mp", id, 1, first)
	etag2 := s.uploadPart(t, "attr", "mp", id, 2, second)
	s.must(t, http.StatusOK, http.MethodPost, "/attr/mp?uploadId="+id, completeBody(1, etag1, 2, etag2))

	var result objectAttributes
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/attr/mp?attributes", nil, "X-Amz-Object-Attributes", "ETag, Checksum, ObjectParts"), &result)
	want := multipartETag(first, second)
	if result.ETag != want[1:len(want)-1] {
		t.Errorf("ETag = %q, want %q", result.ETag, want[1:len(want)-1])
	}
	if result.Checksum == nil || result.Checksum.ChecksumCRC32 != compositeCRC32(first, second) || result.Checksum.ChecksumType != "COMPOSITE" {
		t.Errorf("Checksum = %+v, want %q COMPOSITE", result.Checksum, compositeCRC32(first, second))
	}
	if result.Checksum != nil && result.Checksum.ChecksumSHA256 != "" {
		t.Errorf("composite object reports a SHA-256 %q", result.Checksum.ChecksumSHA256)
	}
	if result.ObjectParts == nil || result.ObjectParts.TotalPartsCount != 2 {
		t.Errorf("ObjectParts = %+v, want TotalPartsCount 2", result.ObjectParts)
	}
}
