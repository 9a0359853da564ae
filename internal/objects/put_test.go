package objects_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

func crc32Base64(data []byte) string {
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc32.ChecksumIEEE(data))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestPutObjectETagIsHexMD5(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "etag")
	for _, data := range [][]byte{nil, []byte("hello"), pattern(1, 300_000)} {
		o := s.put(t, "etag", "k", data)
		if o.ETag != md5Hex(data) {
			t.Errorf("ETag of %d bytes = %q, want %q", len(data), o.ETag, md5Hex(data))
		}
		if o.Size != int64(len(data)) {
			t.Errorf("size = %d, want %d", o.Size, len(data))
		}
		if want := digest.SHA256.FromBytes(data); o.Blob != want {
			t.Errorf("blob = %s, want %s", o.Blob, want)
		}
		if got := s.read(t, "etag", "k"); !bytes.Equal(got, data) {
			t.Errorf("read back %d bytes, want %d", len(got), len(data))
		}
	}
}

func TestPutObjectAttributes(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "attrs")
	attrs := objects.Attributes{
		ContentType:  "text/plain",
		Headers:      map[string]string{"Cache-Control": "no-cache", "Content-Language": "de"},
		UserMetadata: map[string]string{"color": "blue"},
	}
	if _, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "attrs", Key: "k", Body: strings.NewReader("x"), Size: 1, Attributes: attrs}); err != nil {
		t.Fatalf("put: %v", err)
	}
	o, err := s.store.Object(ctx, "attrs", "k")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if o.ContentType != "text/plain" {
		t.Errorf("content type = %q", o.ContentType)
	}
	if o.Headers["Cache-Control"] != "no-cache" || o.Headers["Content-Language"] != "de" {
		t.Errorf("headers = %v", o.Headers)
	}
	if o.UserMetadata["color"] != "blue" {
		t.Errorf("user metadata = %v", o.UserMetadata)
	}
}

func TestPutObjectMissingBucket(t *testing.T) {
	s := newStack(t)
	_, err := s.store.PutObject(t.Context(), objects.PutInput{Bucket: "nope", Key: "k", Body: strings.NewReader("x"), Size: 1})
	if !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("put into missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestObjectNotFound(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "present")
	if _, err := s.store.Object(t.Context(), "present", "missing"); !errors.Is(err, objects.ErrNoSuchKey) {
		t.Errorf("get missing key = %v, want ErrNoSuchKey", err)
	}
	if _, err := s.store.Object(t.Context(), "absent", "k"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("get from missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestPutObjectContentMD5(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "md5")
	data := []byte("checked body")

	o, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "md5", Key: "good", Body: bytes.NewReader(data), Size: int64(len(data)), ContentMD5: md5Base64(data)})
	if err != nil {
		t.Fatalf("put with right Content-MD5: %v", err)
	}
	if o.ETag != md5Hex(data) {
		t.Errorf("ETag = %q, want %q", o.ETag, md5Hex(data))
	}

	other := []byte("another body")
	_, err = s.store.PutObject(ctx, objects.PutInput{Bucket: "md5", Key: "bad", Body: bytes.NewReader(other), Size: int64(len(other)), ContentMD5: md5Base64(data)})
	if !errors.Is(err, objects.ErrBadDigest) {
		t.Fatalf("put with wrong Content-MD5 = %v, want ErrBadDigest", err)
	}
	if keys := s.allKeys(t, "md5"); joinKeys(keys) != "good" {
		t.Errorf("keys after rejected put = %q, want only good", keys)
	}
	if _, err := s.meta.BlobReferences(ctx, digest.SHA256.FromBytes(other)); !errors.Is(err, metadata.ErrNotFound) {
		t.Errorf("references to the rejected content = %v, want ErrNotFound", err)
	}
	if _, err := s.driver.Stat(ctx, blob.Key(digest.SHA256.FromBytes(other))); err == nil {
		t.Errorf("the rejected content was committed to storage")
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("temporary keys left after rejected put: %v", keys)
	}
}

func TestPutObjectInvalidContentMD5(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "md5")
	for _, value := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := s.store.PutObject(t.Context(), objects.PutInput{Bucket: "md5", Key: "k", Body: strings.NewReader("x"), Size: 1, ContentMD5: value})
		if !errors.Is(err, objects.ErrInvalidDigest) {
			t.Errorf("put with Content-MD5 %q = %v, want ErrInvalidDigest", value, err)
		}
	}
}

func TestPutObjectChecksumCRC32(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "crc")
	data := []byte("checksummed content")
	right := crc32Base64(data)

	o, err := s.store.PutObject(ctx, objects.PutInput{
		Bucket: "crc", Key: "good", Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "CRC32", Expected: func() string { return right }},
	})
	if err != nil {
		t.Fatalf("put with right CRC32: %v", err)
	}
	if o.Checksums["CRC32"] != right {
		t.Errorf("stored CRC32 = %q, want %q", o.Checksums["CRC32"], right)
	}
	if o.ChecksumType != "FULL_OBJECT" {
		t.Errorf("checksum type = %q, want FULL_OBJECT", o.ChecksumType)
	}

	wrong := crc32Base64([]byte("other content"))
	_, err = s.store.PutObject(ctx, objects.PutInput{
		Bucket: "crc", Key: "bad", Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "CRC32", Expected: func() string { return wrong }},
	})
	if !errors.Is(err, objects.ErrBadDigest) {
		t.Errorf("put with wrong CRC32 = %v, want ErrBadDigest", err)
	}
	if keys := s.allKeys(t, "crc"); joinKeys(keys) != "good" {
		t.Errorf("keys after rejected put = %q, want only good", keys)
	}
}

func TestPutObjectChecksumWithoutExpectedValue(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "crc")
	data := []byte("computed only")
	o, err := s.store.PutObject(t.Context(), objects.PutInput{
		Bucket: "crc", Key: "k", Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "CRC32"},
	})
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if o.Checksums["CRC32"] != crc32Base64(data) {
		t.Errorf("computed CRC32 = %q, want %q", o.Checksums["CRC32"], crc32Base64(data))
	}
}

// TestPutObjectChecksumSHA256 checks the SHA256 checksum, which PutObject
// takes from the content digest instead of hashing the bytes again.
func TestPutObjectChecksumSHA256(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sha")
	data := bytes.Repeat([]byte("sha256 checksummed content "), 50_000) // over 1 MiB
	sum := sha256.Sum256(data)
	right := base64.StdEncoding.EncodeToString(sum[:])

	o, err := s.store.PutObject(ctx, objects.PutInput{
		Bucket: "sha", Key: "good", Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "SHA256", Expected: func() string { return right }},
	})
	if err != nil {
		t.Fatalf("put with right SHA256: %v", err)
	}
	if o.Checksums["SHA256"] != right || o.ChecksumType != "FULL_OBJECT" {
		t.Errorf("stored checksums = %v (%s), want SHA256 %s (FULL_OBJECT)", o.Checksums, o.ChecksumType, right)
	}

	computed, err := s.store.PutObject(ctx, objects.PutInput{
		Bucket: "sha", Key: "computed", Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "SHA256"},
	})
	if err != nil || computed.Checksums["SHA256"] != right {
		t.Errorf("put without an expected SHA256 = %v, %v; want SHA256 %s", computed, err, right)
	}

	other := sha256.Sum256([]byte("other content"))
	wrong := base64.StdEncoding.EncodeToString(other[:])
	_, err = s.store.PutObject(ctx, objects.PutInput{
		Bucket: "sha", Key: "bad", Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "SHA256", Expected: func() string { return wrong }},
	})
	if !errors.Is(err, objects.ErrBadDigest) || !strings.Contains(err.Error(), "x-amz-checksum-sha256 is "+wrong+", the body's is "+right) {
		t.Errorf("put with wrong SHA256 = %v, want ErrBadDigest naming both values", err)
	}
	if keys := s.allKeys(t, "sha"); joinKeys(keys) != "computed good" {
		t.Errorf("keys after rejected put = %q, want computed good", keys)
	}
}

func TestPutObjectUnknownChecksumAlgorithm(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "crc")
	_, err := s.store.PutObject(t.Context(), objects.PutInput{
		Bucket: "crc", Key: "k", Body: strings.NewReader("x"), Size: 1,
		Checksum: objects.ChecksumRequest{Algorithm: "MD4"},
	})
	if !errors.Is(err, objects.ErrInvalidChecksum) {
		t.Errorf("put with checksum MD4 = %v, want ErrInvalidChecksum", err)
	}
}

func TestPutObjectExpectedDigest(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "digest")
	data := []byte("addressed content")

	_, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "digest", Key: "good", Body: bytes.NewReader(data), Size: int64(len(data)), ExpectedDigest: digest.SHA256.FromBytes(data)})
	if err != nil {
		t.Errorf("put with right digest: %v", err)
	}
	_, err = s.store.PutObject(ctx, objects.PutInput{Bucket: "digest", Key: "bad", Body: bytes.NewReader(data), Size: int64(len(data)), ExpectedDigest: digest.SHA256.FromBytes([]byte("x"))})
	if !errors.Is(err, objects.ErrSHA256Mismatch) {
		t.Errorf("put with wrong digest = %v, want ErrSHA256Mismatch", err)
	}
	if keys := s.allKeys(t, "digest"); joinKeys(keys) != "good" {
		t.Errorf("keys = %q, want only good", keys)
	}
}

func TestPutObjectSizeMismatch(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "size")
	for _, declared := range []int64{3, 10} {
		_, err := s.store.PutObject(t.Context(), objects.PutInput{Bucket: "size", Key: "k", Body: strings.NewReader("12345"), Size: declared})
		if !errors.Is(err, objects.ErrIncompleteBody) {
			t.Errorf("put of 5 bytes declared as %d = %v, want ErrIncompleteBody", declared, err)
		}
	}
	if keys := s.allKeys(t, "size"); len(keys) != 0 {
		t.Errorf("keys after rejected puts = %q", keys)
	}
}

func TestPutObjectUnknownSize(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "stream")
	o, err := s.store.PutObject(t.Context(), objects.PutInput{Bucket: "stream", Key: "k", Body: strings.NewReader("streamed"), Size: -1})
	if err != nil {
		t.Fatalf("put of unknown size: %v", err)
	}
	if o.Size != 8 {
		t.Errorf("size = %d, want 8", o.Size)
	}
}

func TestPutObjectConditional(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "cond")
	put := func(key, body string, cond metadata.Precondition) error {
		_, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "cond", Key: key, Body: strings.NewReader(body), Size: int64(len(body)), Condition: cond})
		return err
	}

	if err := put("k", "v1", metadata.Precondition{IfNoneMatchAny: true}); err != nil {
		t.Fatalf("If-None-Match * on a free key = %v, want nil", err)
	}
	if err := put("k", "v2", metadata.Precondition{IfNoneMatchAny: true}); !errors.Is(err, objects.ErrPreconditionFailed) {
		t.Errorf("If-None-Match * on an existing key = %v, want ErrPreconditionFailed", err)
	}
	if err := put("k", "v2", metadata.Precondition{IfMatch: md5Hex([]byte("other"))}); !errors.Is(err, objects.ErrPreconditionFailed) {
		t.Errorf("If-Match with a wrong ETag = %v, want ErrPreconditionFailed", err)
	}
	if err := put("absent", "v", metadata.Precondition{IfMatch: md5Hex([]byte("v"))}); !errors.Is(err, objects.ErrPreconditionFailed) {
		t.Errorf("If-Match on a missing key = %v, want ErrPreconditionFailed", err)
	}
	if got := string(s.read(t, "cond", "k")); got != "v1" {
		t.Errorf("content after failed conditions = %q, want v1", got)
	}
	if err := put("k", "v3", metadata.Precondition{IfMatch: md5Hex([]byte("v1"))}); err != nil {
		t.Errorf("If-Match with the current ETag = %v, want nil", err)
	}
	if got := string(s.read(t, "cond", "k")); got != "v3" {
		t.Errorf("content after If-Match write = %q, want v3", got)
	}
	if keys := s.allKeys(t, "cond"); joinKeys(keys) != "k" {
		t.Errorf("keys = %q, want only k", keys)
	}
}

func TestEqualObjectsShareOneBlob(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "one")
	s.bucket(t, "two")
	data := pattern(3, 100_000)

	a := s.put(t, "one", "a", data)
	b := s.put(t, "two", "b", data)
	if a.Blob != b.Blob {
		t.Fatalf("equal content has blobs %s and %s", a.Blob, b.Blob)
	}
	if n := refcount(ctx, t, s.meta, a); n != 2 {
		t.Errorf("references after two puts = %d, want 2", n)
	}
	if keys := s.storedKeys(t, "blobs"); len(keys) != 1 {
		t.Errorf("blob keys = %v, want one", keys)
	}
	if total := s.storedBytes(t, ""); total != int64(len(data)) {
		t.Errorf("stored bytes = %d, want %d (one copy)", total, len(data))
	}

	// Overwriting the key with the same bytes keeps the count.
	s.put(t, "one", "a", data)
	if n := refcount(ctx, t, s.meta, a); n != 2 {
		t.Errorf("references after rewriting a with equal bytes = %d, want 2", n)
	}
	// Overwriting with other bytes, then deleting, drops the references.
	s.put(t, "one", "a", []byte("different"))
	if n := refcount(ctx, t, s.meta, a); n != 1 {
		t.Errorf("references after overwriting a = %d, want 1", n)
	}
	if err := s.store.DeleteObject(ctx, "two", "b"); err != nil {
		t.Fatalf("delete b: %v", err)
	}
	if n := refcount(ctx, t, s.meta, a); n != 0 {
		t.Errorf("references after deleting b = %d, want 0", n)
	}
}

func TestDeleteObject(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "del")
	s.put(t, "del", "k", []byte("x"))
	if err := s.store.DeleteObject(ctx, "del", "k"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.store.Object(ctx, "del", "k"); !errors.Is(err, objects.ErrNoSuchKey) {
		t.Errorf("get deleted key = %v, want ErrNoSuchKey", err)
	}
	if err := s.store.DeleteObject(ctx, "del", "k"); err != nil {
		t.Errorf("delete missing key = %v, want nil", err)
	}
	if err := s.store.DeleteObject(ctx, "gone", "k"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("delete in missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestOpenRange(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "rng")
	data := pattern(5, 1000)
	o := s.put(t, "rng", "k", data)

	rc, err := s.store.Open(ctx, o, 100, 50)
	if err != nil {
		t.Fatalf("open range: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatalf("read range: %v", err)
	}
	if !bytes.Equal(got, data[100:150]) {
		t.Errorf("range 100+50 = %d bytes that differ from the content", len(got))
	}
	if _, err := s.store.Open(ctx, o, 990, 20); !errors.Is(err, objects.ErrInvalidRange) {
		t.Errorf("range past the end = %v, want ErrInvalidRange", err)
	}
}

func TestPartRangeOfSinglePut(t *testing.T) {
	o := &metadata.Object{Size: 42}
	start, length, err := objects.PartRange(o, 1)
	if err != nil || start != 0 || length != 42 {
		t.Errorf("PartRange(1) = %d, %d, %v; want 0, 42, nil", start, length, err)
	}
	if _, _, err := objects.PartRange(o, 2); !errors.Is(err, objects.ErrInvalidRange) {
		t.Errorf("PartRange(2) = %v, want ErrInvalidRange", err)
	}
}

func TestCopyObjectSharesBlob(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "src")
	s.bucket(t, "dst")
	data := pattern(9, 50_000)
	src, err := s.store.PutObject(ctx, objects.PutInput{
		Bucket: "src", Key: "orig", Body: bytes.NewReader(data), Size: int64(len(data)),
		Attributes: objects.Attributes{ContentType: "text/plain", UserMetadata: map[string]string{"owner": "alice"}},
		Checksum:   objects.ChecksumRequest{Algorithm: "CRC32"},
	})
	if err != nil {
		t.Fatalf("put source: %v", err)
	}
	before := s.storedBytes(t, "")

	copied, err := s.store.CopyObject(ctx, objects.CopyInput{Source: src, Bucket: "dst", Key: "copy"})
	if err != nil {
		t.Fatalf("copy with COPY: %v", err)
	}
	if copied.Blob != src.Blob || copied.ETag != src.ETag || copied.Size != src.Size {
		t.Errorf("copy = blob %s etag %s size %d; want the source's", copied.Blob, copied.ETag, copied.Size)
	}
	if copied.ContentType != "text/plain" || copied.UserMetadata["owner"] != "alice" {
		t.Errorf("copied attributes = %q %v, want the source's", copied.ContentType, copied.UserMetadata)
	}
	if copied.Checksums["CRC32"] != src.Checksums["CRC32"] {
		t.Errorf("copied checksum = %v, want %v", copied.Checksums, src.Checksums)
	}

	replaced, err := s.store.CopyObject(ctx, objects.CopyInput{
		Source: src, Bucket: "src", Key: "renamed",
		Replace: &objects.Attributes{ContentType: "application/json", UserMetadata: map[string]string{"owner": "bob"}},
	})
	if err != nil {
		t.Fatalf("copy with REPLACE: %v", err)
	}
	if replaced.Blob != src.Blob {
		t.Errorf("REPLACE copy blob = %s, want %s", replaced.Blob, src.Blob)
	}
	stored, err := s.store.Object(ctx, "src", "renamed")
	if err != nil {
		t.Fatalf("get REPLACE copy: %v", err)
	}
	if stored.ContentType != "application/json" || stored.UserMetadata["owner"] != "bob" {
		t.Errorf("REPLACE attributes = %q %v", stored.ContentType, stored.UserMetadata)
	}

	if after := s.storedBytes(t, ""); after != before {
		t.Errorf("stored bytes after two copies = %d, want %d (no new bytes)", after, before)
	}
	if n := refcount(ctx, t, s.meta, src); n != 3 {
		t.Errorf("references after two copies = %d, want 3", n)
	}
	if got := s.read(t, "dst", "copy"); !bytes.Equal(got, data) {
		t.Errorf("copy content differs from the source")
	}
}

func TestCopyObjectConditionAndMissingBucket(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "cpy")
	src := s.put(t, "cpy", "src", []byte("source"))
	s.put(t, "cpy", "taken", []byte("existing"))

	_, err := s.store.CopyObject(ctx, objects.CopyInput{Source: src, Bucket: "cpy", Key: "taken", Condition: metadata.Precondition{IfNoneMatchAny: true}})
	if !errors.Is(err, objects.ErrPreconditionFailed) {
		t.Errorf("copy onto an existing key with If-None-Match * = %v, want ErrPreconditionFailed", err)
	}
	if got := string(s.read(t, "cpy", "taken")); got != "existing" {
		t.Errorf("destination after failed copy = %q", got)
	}
	if _, err := s.store.CopyObject(ctx, objects.CopyInput{Source: src, Bucket: "nobucket", Key: "k"}); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("copy into missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

// TestObjectSharesOCIBlob stores an object whose bytes an OCI repository
// already holds: the storage keeps one copy.
func TestObjectSharesOCIBlob(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	data := pattern(11, 40_000)
	d := digest.SHA256.FromBytes(data)
	if _, _, err := blob.New(s.driver, s.meta).Put(ctx, d, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("put OCI blob: %v", err)
	}
	if err := s.meta.LinkBlob(ctx, "library/layer", metadata.Blob{Digest: d, Size: int64(len(data))}); err != nil {
		t.Fatalf("link OCI blob: %v", err)
	}

	s.bucket(t, "shared")
	o := s.put(t, "shared", "layer.tar.gz", data)
	if o.Blob != d {
		t.Errorf("object blob = %s, want the OCI blob %s", o.Blob, d)
	}
	if keys := s.storedKeys(t, "blobs"); len(keys) != 1 || keys[0] != blob.Key(d) {
		t.Errorf("blob keys = %v, want only %s", keys, blob.Key(d))
	}
	if total := s.storedBytes(t, ""); total != int64(len(data)) {
		t.Errorf("stored bytes = %d, want %d (one copy)", total, len(data))
	}
	if n := refcount(ctx, t, s.meta, o); n != 1 {
		t.Errorf("references = %d, want 1 (the object; a repository link is not a reference)", n)
	}
	if got := s.read(t, "shared", "layer.tar.gz"); !bytes.Equal(got, data) {
		t.Errorf("object content differs from the OCI blob")
	}
}
