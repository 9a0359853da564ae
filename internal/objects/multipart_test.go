package objects_test

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// multipartETag computes the S3 multipart ETag independently: the hex MD5
// of the concatenated binary part MD5s, then "-" and the part count.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts))
}

// compositeCRC32 computes the COMPOSITE CRC32 of a multipart object
// independently: the CRC32 of the concatenated big-endian part CRC32s, in
// base64, then "-" and the part count.
func compositeCRC32(parts ...[]byte) string {
	var concatenated []byte
	for _, p := range parts {
		concatenated = binary.BigEndian.AppendUint32(concatenated, crc32.ChecksumIEEE(p))
	}
	return fmt.Sprintf("%s-%d", crc32Base64(concatenated), len(parts))
}

func (s *testStack) createUpload(t *testing.T, in objects.CreateUploadInput) metadata.MultipartUpload {
	t.Helper()
	u, err := s.store.CreateMultipartUpload(t.Context(), in)
	if err != nil {
		t.Fatalf("create multipart upload of %s/%s: %v", in.Bucket, in.Key, err)
	}
	return u
}

func (s *testStack) uploadPart(t *testing.T, u metadata.MultipartUpload, n int, data []byte) metadata.Part {
	t.Helper()
	p, err := s.store.UploadPart(t.Context(), objects.PartInput{Upload: u, Number: n, Body: bytes.NewReader(data), Size: int64(len(data))})
	if err != nil {
		t.Fatalf("upload part %d: %v", n, err)
	}
	return p
}

func completed(parts ...metadata.Part) []objects.CompletedPart {
	var out []objects.CompletedPart
	for _, p := range parts {
		out = append(out, objects.CompletedPart{Number: p.Number, ETag: `"` + p.ETag + `"`})
	}
	return out
}

func TestMultipartCompositeCRC32(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{
		Bucket: "mpu", Key: "big", ChecksumAlgorithm: "crc32",
		Attributes: objects.Attributes{ContentType: "application/x-tar", UserMetadata: map[string]string{"k": "v"}},
	})
	if u.ChecksumAlgorithm != "CRC32" || u.ChecksumType != "COMPOSITE" {
		t.Errorf("upload checksum = %q %q, want CRC32 COMPOSITE", u.ChecksumAlgorithm, u.ChecksumType)
	}

	first := pattern(1, objects.MinPartSize)
	second := pattern(2, objects.MinPartSize)
	replacement := pattern(4, objects.MinPartSize)
	last := pattern(3, 1234)

	// Parts arrive out of order, and part 2 is uploaded twice.
	p3 := s.uploadPart(t, u, 3, last)
	s.uploadPart(t, u, 2, second)
	p1 := s.uploadPart(t, u, 1, first)
	p2 := s.uploadPart(t, u, 2, replacement)
	if p2.ETag != md5Hex(replacement) {
		t.Errorf("part ETag = %q, want %q", p2.ETag, md5Hex(replacement))
	}
	if p2.Checksum != crc32Base64(replacement) {
		t.Errorf("part checksum = %q, want %q", p2.Checksum, crc32Base64(replacement))
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 3 {
		t.Errorf("staged keys after replacing part 2 = %v, want 3", keys)
	}

	parts, err := s.store.Parts(ctx, u.ID, 0, 1000)
	if err != nil {
		t.Fatalf("list parts: %v", err)
	}
	var numbers []int
	for _, p := range parts {
		numbers = append(numbers, p.Number)
	}
	if !slices.Equal(numbers, []int{1, 2, 3}) || parts[1].ETag != p2.ETag {
		t.Errorf("parts = %v (part 2 ETag %q), want 1 2 3 with the replacement", numbers, parts[1].ETag)
	}

	o, err := s.store.CompleteMultipartUpload(ctx, objects.CompleteInput{Bucket: "mpu", Key: "big", UploadID: u.ID, Parts: completed(p1, p2, p3)})
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if want := multipartETag(first, replacement, last); o.ETag != want {
		t.Errorf("ETag = %q, want %q", o.ETag, want)
	}
	if want := compositeCRC32(first, replacement, last); o.Checksums["CRC32"] != want {
		t.Errorf("composite CRC32 = %q, want %q", o.Checksums["CRC32"], want)
	}
	if o.ChecksumType != "COMPOSITE" {
		t.Errorf("checksum type = %q, want COMPOSITE", o.ChecksumType)
	}
	whole := slices.Concat(first, replacement, last)
	if o.Size != int64(len(whole)) {
		t.Errorf("size = %d, want %d", o.Size, len(whole))
	}
	if got := s.read(t, "mpu", "big"); !bytes.Equal(got, whole) {
		t.Errorf("content of the completed object differs from the parts in order")
	}
	stored, err := s.store.Object(ctx, "mpu", "big")
	if err != nil {
		t.Fatalf("get object: %v", err)
	}
	if stored.ContentType != "application/x-tar" || stored.UserMetadata["k"] != "v" {
		t.Errorf("attributes = %q %v, want those given at creation", stored.ContentType, stored.UserMetadata)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("part bytes left after complete: %v", keys)
	}
	if _, err := s.store.Upload(ctx, "mpu", "big", u.ID); !errors.Is(err, objects.ErrNoSuchUpload) {
		t.Errorf("upload after complete = %v, want ErrNoSuchUpload", err)
	}

	start, length, err := objects.PartRange(stored, 2)
	if err != nil || start != int64(len(first)) || length != int64(len(replacement)) {
		t.Errorf("PartRange(2) = %d, %d, %v; want %d, %d", start, length, err, len(first), len(replacement))
	}
	if _, _, err := objects.PartRange(stored, 4); !errors.Is(err, objects.ErrInvalidRange) {
		t.Errorf("PartRange(4) = %v, want ErrInvalidRange", err)
	}
}

func TestMultipartFullObjectCRC32(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "full", ChecksumAlgorithm: "CRC32", ChecksumType: "FULL_OBJECT"})
	first := pattern(7, objects.MinPartSize+17)
	last := pattern(8, 999)
	p1 := s.uploadPart(t, u, 1, first)
	p2 := s.uploadPart(t, u, 2, last)

	o, err := s.store.CompleteMultipartUpload(t.Context(), objects.CompleteInput{Bucket: "mpu", Key: "full", UploadID: u.ID, Parts: completed(p1, p2)})
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if want := crc32Base64(slices.Concat(first, last)); o.Checksums["CRC32"] != want {
		t.Errorf("FULL_OBJECT CRC32 = %q, want the CRC32 of the whole content %q", o.Checksums["CRC32"], want)
	}
	if o.ChecksumType != "FULL_OBJECT" {
		t.Errorf("checksum type = %q, want FULL_OBJECT", o.ChecksumType)
	}
	if want := multipartETag(first, last); o.ETag != want {
		t.Errorf("ETag = %q, want %q", o.ETag, want)
	}
}

func TestMultipartChecksumSettings(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "mpu")
	valid := []struct{ algorithm, kind, wantAlgorithm, wantKind string }{
		{"", "", "", ""},
		{"CRC32", "", "CRC32", "COMPOSITE"},
		{"crc32c", "full_object", "CRC32C", "FULL_OBJECT"},
		{"CRC64NVME", "", "CRC64NVME", "FULL_OBJECT"},
		{"SHA256", "COMPOSITE", "SHA256", "COMPOSITE"},
	}
	for _, tc := range valid {
		u, err := s.store.CreateMultipartUpload(t.Context(), objects.CreateUploadInput{Bucket: "mpu", Key: "k", ChecksumAlgorithm: tc.algorithm, ChecksumType: tc.kind})
		if err != nil {
			t.Errorf("create with %q %q: %v", tc.algorithm, tc.kind, err)
			continue
		}
		if u.ChecksumAlgorithm != tc.wantAlgorithm || u.ChecksumType != tc.wantKind {
			t.Errorf("create with %q %q = %q %q, want %q %q", tc.algorithm, tc.kind, u.ChecksumAlgorithm, u.ChecksumType, tc.wantAlgorithm, tc.wantKind)
		}
	}
	invalid := []struct{ algorithm, kind string }{
		{"", "COMPOSITE"},
		{"MD5", ""},
		{"CRC64NVME", "COMPOSITE"},
		{"SHA1", "FULL_OBJECT"},
		{"CRC32", "PARTIAL"},
	}
	for _, tc := range invalid {
		_, err := s.store.CreateMultipartUpload(t.Context(), objects.CreateUploadInput{Bucket: "mpu", Key: "k", ChecksumAlgorithm: tc.algorithm, ChecksumType: tc.kind})
		if !errors.Is(err, objects.ErrInvalidArgument) {
			t.Errorf("create with %q %q = %v, want ErrInvalidArgument", tc.algorithm, tc.kind, err)
		}
	}
	if _, err := s.store.CreateMultipartUpload(t.Context(), objects.CreateUploadInput{Bucket: "nobucket", Key: "k"}); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("create in missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestMultipartCompleteRejections(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k"})
	small1 := s.uploadPart(t, u, 1, []byte("small one"))
	small2 := s.uploadPart(t, u, 2, []byte("small two"))
	complete := func(parts []objects.CompletedPart) error {
		_, err := s.store.CompleteMultipartUpload(ctx, objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: parts})
		return err
	}

	cases := []struct {
		name  string
		parts []objects.CompletedPart
		want  error
	}{
		{"descending", completed(small2, small1), objects.ErrInvalidPartOrder},
		{"repeated", completed(small1, small1), objects.ErrInvalidPartOrder},
		{"unknown part", []objects.CompletedPart{{Number: 3, ETag: small1.ETag}}, objects.ErrInvalidPart},
		{"wrong ETag", []objects.CompletedPart{{Number: 1, ETag: small2.ETag}}, objects.ErrInvalidPart},
		{"no parts", nil, objects.ErrInvalidPart},
		{"small part not last", completed(small1, small2), objects.ErrEntityTooSmall},
	}
	for _, tc := range cases {
		if err := complete(tc.parts); !errors.Is(err, tc.want) {
			t.Errorf("complete with %s = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := s.store.Upload(ctx, "mpu", "k", u.ID); err != nil {
		t.Fatalf("upload after rejected completions = %v, want it still open", err)
	}
	if keys := s.allKeys(t, "mpu"); len(keys) != 0 {
		t.Errorf("keys after rejected completions = %q", keys)
	}
	if _, err := s.store.CompleteMultipartUpload(ctx, objects.CompleteInput{Bucket: "mpu", Key: "other", UploadID: u.ID, Parts: completed(small1)}); !errors.Is(err, objects.ErrNoSuchUpload) {
		t.Errorf("complete under another key = %v, want ErrNoSuchUpload", err)
	}
	if _, err := s.store.CompleteMultipartUpload(ctx, objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: "unknown", Parts: completed(small1)}); !errors.Is(err, objects.ErrNoSuchUpload) {
		t.Errorf("complete unknown upload = %v, want ErrNoSuchUpload", err)
	}
}

func TestMultipartPartChecksumInComplete(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k", ChecksumAlgorithm: "CRC32"})
	data := []byte("only part")
	p := s.uploadPart(t, u, 1, data)
	wrong := []objects.CompletedPart{{Number: 1, ETag: p.ETag, Checksum: crc32Base64([]byte("other"))}}
	_, err := s.store.CompleteMultipartUpload(t.Context(), objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: wrong})
	if !errors.Is(err, objects.ErrInvalidPart) {
		t.Errorf("complete with a wrong part checksum = %v, want ErrInvalidPart", err)
	}
	right := []objects.CompletedPart{{Number: 1, ETag: p.ETag, Checksum: crc32Base64(data)}}
	o, err := s.store.CompleteMultipartUpload(t.Context(), objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: right})
	if err != nil {
		t.Fatalf("complete with the right part checksum: %v", err)
	}
	if want := compositeCRC32(data); o.Checksums["CRC32"] != want {
		t.Errorf("one-part composite CRC32 = %q, want %q", o.Checksums["CRC32"], want)
	}
}

func TestMultipartETagForms(t *testing.T) {
	for _, form := range []struct{ name, open, close string }{
		{"bare", "", ""},
		{"quoted", `"`, `"`},
		{"&#34;-escaped", "&#34;", "&#34;"},
		{"&quot;-escaped", "&quot;", "&quot;"},
		{"padded", ` "`, `" `},
	} {
		s := newStack(t)
		s.bucket(t, "mpu")
		u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k"})
		p := s.uploadPart(t, u, 1, []byte("data"))
		parts := []objects.CompletedPart{{Number: 1, ETag: form.open + p.ETag + form.close}}
		if _, err := s.store.CompleteMultipartUpload(t.Context(), objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: parts}); err != nil {
			t.Errorf("complete with a %s ETag: %v", form.name, err)
		}
	}
}

func TestMultipartSubsetDiscardsOtherParts(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k"})
	p1 := s.uploadPart(t, u, 1, pattern(1, objects.MinPartSize))
	s.uploadPart(t, u, 2, []byte("not used"))
	p3 := s.uploadPart(t, u, 3, []byte("tail"))

	o, err := s.store.CompleteMultipartUpload(t.Context(), objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: completed(p1, p3)})
	if err != nil {
		t.Fatalf("complete with parts 1 and 3: %v", err)
	}
	if want := multipartETag(pattern(1, objects.MinPartSize), []byte("tail")); o.ETag != want {
		t.Errorf("ETag = %q, want %q", o.ETag, want)
	}
	if got := s.read(t, "mpu", "k"); !bytes.Equal(got, slices.Concat(pattern(1, objects.MinPartSize), []byte("tail"))) {
		t.Errorf("content is not parts 1 and 3")
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("part bytes left after complete, the unused part included: %v", keys)
	}
}

func TestMultipartCompleteConditional(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	s.put(t, "mpu", "k", []byte("existing"))
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k"})
	p := s.uploadPart(t, u, 1, []byte("new"))

	_, err := s.store.CompleteMultipartUpload(ctx, objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: completed(p), Condition: metadata.Precondition{IfNoneMatchAny: true}})
	if !errors.Is(err, objects.ErrPreconditionFailed) {
		t.Fatalf("complete with If-None-Match * over an existing key = %v, want ErrPreconditionFailed", err)
	}
	if got := string(s.read(t, "mpu", "k")); got != "existing" {
		t.Errorf("content after failed completion = %q", got)
	}
	_, err = s.store.CompleteMultipartUpload(ctx, objects.CompleteInput{Bucket: "mpu", Key: "k", UploadID: u.ID, Parts: completed(p), Condition: metadata.Precondition{IfMatch: md5Hex([]byte("existing"))}})
	if err != nil {
		t.Fatalf("complete with If-Match of the current ETag: %v", err)
	}
	if got := string(s.read(t, "mpu", "k")); got != "new" {
		t.Errorf("content after completion = %q, want new", got)
	}
}

func TestUploadPartRejections(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k", ChecksumAlgorithm: "CRC32"})
	data := []byte("part body")

	for _, n := range []int{0, objects.MaxPartNumber + 1} {
		_, err := s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: n, Body: bytes.NewReader(data), Size: int64(len(data))})
		if !errors.Is(err, objects.ErrInvalidArgument) {
			t.Errorf("part number %d = %v, want ErrInvalidArgument", n, err)
		}
	}
	_, err := s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 1, Body: bytes.NewReader(data), Size: int64(len(data)), ContentMD5: md5Base64([]byte("other"))})
	if !errors.Is(err, objects.ErrBadDigest) {
		t.Errorf("part with wrong Content-MD5 = %v, want ErrBadDigest", err)
	}
	wrongCRC := crc32Base64([]byte("other"))
	_, err = s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 1, Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "CRC32", Expected: func() string { return wrongCRC }}})
	if !errors.Is(err, objects.ErrBadDigest) {
		t.Errorf("part with wrong CRC32 = %v, want ErrBadDigest", err)
	}
	_, err = s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 1, Body: bytes.NewReader(data), Size: int64(len(data)),
		Checksum: objects.ChecksumRequest{Algorithm: "SHA256"}})
	if !errors.Is(err, objects.ErrInvalidChecksum) {
		t.Errorf("SHA256 part in a CRC32 upload = %v, want ErrInvalidChecksum", err)
	}
	_, err = s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 1, Body: bytes.NewReader(data), Size: int64(len(data)) + 1})
	if !errors.Is(err, objects.ErrIncompleteBody) {
		t.Errorf("part shorter than declared = %v, want ErrIncompleteBody", err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("staged bytes after rejected parts: %v", keys)
	}
	if parts, err := s.store.Parts(ctx, u.ID, 0, 1000); err != nil || len(parts) != 0 {
		t.Errorf("parts after rejected uploads = %v, %v; want none", parts, err)
	}

	rightCRC := crc32Base64(data)
	p, err := s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 1, Body: bytes.NewReader(data), Size: int64(len(data)),
		ContentMD5: md5Base64(data), Checksum: objects.ChecksumRequest{Algorithm: "crc32", Expected: func() string { return rightCRC }}})
	if err != nil {
		t.Fatalf("part with right Content-MD5 and CRC32: %v", err)
	}
	if p.Checksum != rightCRC {
		t.Errorf("part checksum = %q, want %q", p.Checksum, rightCRC)
	}
}

func TestUploadLookup(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k"})
	if got, err := s.store.Upload(ctx, "mpu", "k", u.ID); err != nil || got.ID != u.ID {
		t.Errorf("Upload = %+v, %v", got, err)
	}
	for _, tc := range []struct{ bucket, key, id string }{
		{"mpu", "other", u.ID},
		{"other", "k", u.ID},
		{"mpu", "k", "unknown"},
	} {
		if _, err := s.store.Upload(ctx, tc.bucket, tc.key, tc.id); !errors.Is(err, objects.ErrNoSuchUpload) {
			t.Errorf("Upload(%q, %q, %q) = %v, want ErrNoSuchUpload", tc.bucket, tc.key, tc.id, err)
		}
	}
}

func TestAbortMultipartUpload(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: "k"})
	s.uploadPart(t, u, 1, []byte("one"))
	s.uploadPart(t, u, 2, []byte("two"))
	if keys := s.storedKeys(t, "uploads"); len(keys) != 2 {
		t.Fatalf("staged keys = %v, want 2", keys)
	}

	if err := s.store.AbortMultipartUpload(ctx, "mpu", "other", u.ID); !errors.Is(err, objects.ErrNoSuchUpload) {
		t.Errorf("abort under another key = %v, want ErrNoSuchUpload", err)
	}
	if err := s.store.AbortMultipartUpload(ctx, "mpu", "k", u.ID); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("staged keys after abort = %v", keys)
	}
	if err := s.store.AbortMultipartUpload(ctx, "mpu", "k", u.ID); !errors.Is(err, objects.ErrNoSuchUpload) {
		t.Errorf("second abort = %v, want ErrNoSuchUpload", err)
	}
	_, err := s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 3, Body: strings.NewReader("late"), Size: 4})
	if !errors.Is(err, objects.ErrNoSuchUpload) {
		t.Errorf("part after abort = %v, want ErrNoSuchUpload", err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("staged keys after a part for an aborted upload = %v", keys)
	}
	if err := s.store.DeleteBucket(ctx, "mpu"); err != nil {
		t.Errorf("delete bucket after abort = %v, want nil", err)
	}
}

func TestExpireUploads(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	for i := range 3 {
		u := s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: fmt.Sprintf("k%d", i)})
		s.uploadPart(t, u, 1, []byte("bytes"))
	}

	removed, err := s.store.ExpireUploads(ctx, time.Unix(0, 0))
	if err != nil || removed != 0 {
		t.Errorf("expire before every upload = %d, %v; want 0", removed, err)
	}
	removed, err = s.store.ExpireUploads(ctx, time.Now().Add(time.Hour))
	if err != nil || removed != 3 {
		t.Errorf("expire after every upload = %d, %v; want 3", removed, err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("staged keys after expiry = %v", keys)
	}
	uploads, err := s.store.Uploads(ctx, "mpu", "", "", "", 1000)
	if err != nil || len(uploads) != 0 {
		t.Errorf("uploads after expiry = %v, %v", uploads, err)
	}
}

func TestListUploads(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "mpu")
	var ids []string
	for _, key := range []string{"b", "a", "c/1"} {
		ids = append(ids, s.createUpload(t, objects.CreateUploadInput{Bucket: "mpu", Key: key}).ID)
	}
	uploads, err := s.store.Uploads(ctx, "mpu", "", "", "", 1000)
	if err != nil {
		t.Fatalf("list uploads: %v", err)
	}
	var keys []string
	for _, u := range uploads {
		keys = append(keys, u.Key)
	}
	if want := []string{"a", "b", "c/1"}; !slices.Equal(keys, want) {
		t.Errorf("upload keys = %q, want %q", keys, want)
	}
	uploads, err = s.store.Uploads(ctx, "mpu", "c/", "", "", 1000)
	if err != nil || len(uploads) != 1 || uploads[0].ID != ids[2] {
		t.Errorf("uploads with prefix c/ = %v, %v", uploads, err)
	}
	if _, err := s.store.Uploads(ctx, "nobucket", "", "", "", 10); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("list uploads of missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestNormalizeETag(t *testing.T) {
	for in, want := range map[string]string{
		"abc":                 "abc",
		`"abc"`:               "abc",
		"&#34;abc&#34;":       "abc",
		"&quot;abc&quot;":     "abc",
		` "abc-2" `:           "abc-2",
		`"` + "abc" + "&#34;": "abc",
	} {
		if got := objects.NormalizeETag(in); got != want {
			t.Errorf("NormalizeETag(%q) = %q, want %q", in, got, want)
		}
	}
}
