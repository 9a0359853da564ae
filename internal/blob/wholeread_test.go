package blob_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
)

// writeObject stores data as S3 objects arrive, through Store.Write, and
// returns its digest.
func writeObject(t *testing.T, s *blob.Store, data []byte, declared int64) digest.Digest {
	t.Helper()
	d, n, _, err := s.Write(t.Context(), bytes.NewReader(data), declared, nil, nil)
	if err != nil {
		t.Fatalf("write %d bytes: %v", len(data), err)
	}
	if n != int64(len(data)) || d != digest.SHA256.FromBytes(data) {
		t.Fatalf("write = %s, %d; want %s, %d", d, n, digest.SHA256.FromBytes(data), len(data))
	}
	return d
}

// TestWriteStoresChunkSums checks that a one-pass upload of more than one
// chunk stores its chunk checksums. The first whole read then reads the
// blob once and checks it chunk by chunk. A damaged chunk fails the read
// before any of its bytes go out, after the chunks before it went out.
func TestWriteStoresChunkSums(t *testing.T) {
	for _, declared := range []string{"known size", "unknown size"} {
		s, driver := chunkedStore(t)
		data := randomBytes(5*testChunkSize + 100)
		size := int64(len(data))
		length := size
		if declared == "unknown size" {
			length = -1
		}
		d := writeObject(t, s, data, length)
		if _, err := readKey(t, driver, blob.ChecksumsKey(d)); err != nil {
			t.Fatalf("%s: chunk checksums after the upload: %v", declared, err)
		}

		driver.bytesRead(blob.Key(d))
		got, err := readRange(t, s, d, size, 0, size)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: whole read = %d bytes, %v; want the %d stored", declared, len(got), err, size)
		}
		if n := driver.bytesRead(blob.Key(d)); n != size {
			t.Errorf("%s: whole read took %d bytes from storage, want %d", declared, n, size)
		}

		damaged := bytes.Clone(data)
		damaged[3*testChunkSize+7] ^= 0x40
		overwrite(t, driver, blob.Key(d), damaged)
		got, err = readOneByte(t, s, d, size, 0, size)
		if !errors.Is(err, blob.ErrDigestMismatch) || !strings.Contains(err.Error(), "chunk 3 ") {
			t.Errorf("%s: read of a damaged chunk: error %v, want ErrDigestMismatch naming chunk 3", declared, err)
		}
		if want := data[:3*testChunkSize]; !bytes.Equal(got, want) {
			t.Errorf("%s: read of a damaged chunk returned %d bytes, want the %d of the chunks before it", declared, len(got), len(want))
		}
		if n := s.CorruptReads(); n != 1 {
			t.Errorf("%s: CorruptReads = %d, want 1", declared, n)
		}
	}
}

// TestMonolithicCommitStoresChunkSums checks that a session whose whole
// blob arrives with the commit, as in a monolithic OCI push, stores the
// chunk checksums, so that the first whole read goes chunk by chunk.
func TestMonolithicCommitStoresChunkSums(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(3*testChunkSize + 5)
	size := int64(len(data))
	u, err := s.StartUpload(t.Context(), "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	d := digest.SHA256.FromBytes(data)
	if _, _, err := s.Commit(t.Context(), u.ID, d, bytes.NewReader(data), size); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if _, err := readKey(t, driver, blob.ChecksumsKey(d)); err != nil {
		t.Fatalf("chunk checksums after a monolithic commit: %v", err)
	}

	damaged := bytes.Clone(data)
	damaged[testChunkSize] ^= 0x01
	overwrite(t, driver, blob.Key(d), damaged)
	got, err := readOneByte(t, s, d, size, 0, size)
	if !errors.Is(err, blob.ErrDigestMismatch) || !strings.Contains(err.Error(), "chunk 1 ") {
		t.Errorf("read of a damaged chunk: error %v, want ErrDigestMismatch naming chunk 1", err)
	}
	if len(got) != testChunkSize {
		t.Errorf("read of a damaged chunk returned %d bytes, want the %d of chunk 0", len(got), testChunkSize)
	}
}

// TestWriteOneChunkStoresNoChunkSums checks that a blob of one chunk gets
// no sidecar: its reads always check the digest.
func TestWriteOneChunkStoresNoChunkSums(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(testChunkSize)
	d := writeObject(t, s, data, int64(len(data)))
	if _, err := readKey(t, driver, blob.ChecksumsKey(d)); err == nil {
		t.Errorf("a blob of one chunk has a chunk checksums sidecar")
	}
}

// TestWholeReadStoresChunkSums checks that a blob committed through an
// upload session in chunks, which stores no checksums, gets them from its
// first whole read. That read checks the digest, and the next one uses
// the checksums.
func TestWholeReadStoresChunkSums(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(3*testChunkSize + 1)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	if _, err := readKey(t, driver, blob.ChecksumsKey(d)); err == nil {
		t.Fatalf("a blob committed through a session has chunk checksums before any read")
	}

	for i := range 2 {
		got, err := readRange(t, s, d, size, 0, size)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("whole read %d = %d bytes, %v; want the %d stored", i+1, len(got), err, size)
		}
		if _, err := readKey(t, driver, blob.ChecksumsKey(d)); err != nil {
			t.Fatalf("chunk checksums after whole read %d: %v", i+1, err)
		}
	}

	// A damaged last chunk: the chunk checksums catch it, not the digest.
	damaged := bytes.Clone(data)
	damaged[size-1] ^= 0x01
	overwrite(t, driver, blob.Key(d), damaged)
	got, err := readOneByte(t, s, d, size, 0, size)
	if !errors.Is(err, blob.ErrDigestMismatch) || !strings.Contains(err.Error(), "CRC32C") {
		t.Errorf("read with a damaged last chunk: error %v, want ErrDigestMismatch from the CRC32C check", err)
	}
	if len(got) != 3*testChunkSize {
		t.Errorf("read with a damaged last chunk returned %d bytes, want %d", len(got), 3*testChunkSize)
	}
}

// TestWholeReadFailedDigestStoresNoChunkSums checks that a whole read of
// content that no longer matches its digest stores no checksums for it.
func TestWholeReadFailedDigestStoresNoChunkSums(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(2*testChunkSize + 9)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	damaged := bytes.Clone(data)
	damaged[0] ^= 0x01
	overwrite(t, driver, blob.Key(d), damaged)

	if _, err := readRange(t, s, d, size, 0, size); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Fatalf("whole read of damaged content: error %v, want ErrDigestMismatch", err)
	}
	if _, err := readKey(t, driver, blob.ChecksumsKey(d)); err == nil {
		t.Errorf("a failed whole read stored chunk checksums of the damaged content")
	}
}

// TestVerifyWholeReadsByDigest checks the stricter mode: content that was
// changed together with its sidecar passes the chunk checks by default,
// and fails the digest check when whole reads verify the digest.
func TestVerifyWholeReadsByDigest(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(4 * testChunkSize)
	size := int64(len(data))
	d := writeObject(t, s, data, size)

	changed := bytes.Clone(data)
	changed[testChunkSize] ^= 0x01
	overwrite(t, driver, blob.Key(d), changed)
	if err := s.ForgeChunkSums(t.Context(), d, changed); err != nil {
		t.Fatalf("forge chunk checksums: %v", err)
	}
	if got, err := readRange(t, s, d, size, 0, size); err != nil || !bytes.Equal(got, changed) {
		t.Fatalf("checksum mode: whole read = %d bytes, %v; want the %d changed bytes that match the forged sidecar", len(got), err, size)
	}

	s.VerifyWholeReadsByDigest()
	rc, err := s.Open(t.Context(), d, size, 0, size)
	if err != nil {
		t.Fatalf("digest mode: open: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(iotest.OneByteReader(rc))
	if !errors.Is(err, blob.ErrDigestMismatch) || int64(len(got)) >= size {
		t.Errorf("digest mode: whole read = %d bytes, %v; want fewer than %d and ErrDigestMismatch", len(got), err, size)
	}
}

// TestWholeReadWriteTo checks that a read that goes chunk by chunk writes
// the same bytes through WriteTo as through Read, and that on a damaged
// chunk it writes only the chunks before it and returns the mismatch.
func TestWholeReadWriteTo(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(4*testChunkSize + 3)
	size := int64(len(data))
	d := writeObject(t, s, data, size)

	for _, c := range []struct {
		name   string
		stored []byte
		want   []byte
	}{
		{"intact", data, data},
		{"chunk 2 damaged", append(append(bytes.Clone(data[:2*testChunkSize]), ^data[2*testChunkSize]), data[2*testChunkSize+1:]...), data[:2*testChunkSize]},
	} {
		overwrite(t, driver, blob.Key(d), c.stored)
		rc, err := s.Open(t.Context(), d, size, 0, size)
		if err != nil {
			t.Fatalf("%s: open: %v", c.name, err)
		}
		wt, ok := rc.(io.WriterTo)
		if !ok {
			rc.Close()
			t.Fatalf("%s: the reader of a whole blob with chunk checksums has no WriteTo", c.name)
		}
		var got bytes.Buffer
		n, err := wt.WriteTo(&got)
		rc.Close()
		if damaged := c.name != "intact"; damaged != errors.Is(err, blob.ErrDigestMismatch) {
			t.Errorf("%s: WriteTo error %v", c.name, err)
		}
		if n != int64(got.Len()) || !bytes.Equal(got.Bytes(), c.want) {
			t.Errorf("%s: WriteTo wrote %d bytes (reported %d), want the %d expected", c.name, got.Len(), n, len(c.want))
		}
	}
}
