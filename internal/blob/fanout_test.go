package blob

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestParallelWriterFeedsEveryWriter(t *testing.T) {
	// Writes smaller and larger than one queued copy, and more bytes than
	// all the copies of a writer hold, so that copies are reused.
	for _, writeSize := range []int{4096, laggingBufferSize, 3*laggingBufferSize + 5} {
		data := make([]byte, 2*laggingBuffers*laggingBufferSize+12345)
		_, _ = rand.NewChaCha8([32]byte{byte(writeSize)}).Read(data)
		var stored bytes.Buffer
		sha, sum := sha256.New(), md5.New()
		w := newParallelWriter(&stored, sha, sum)
		if _, err := io.CopyBuffer(w, bytes.NewReader(data), make([]byte, writeSize)); err != nil {
			t.Fatalf("write size %d: copy: %v", writeSize, err)
		}
		w.Close()

		if !bytes.Equal(stored.Bytes(), data) {
			t.Errorf("write size %d: the first writer did not receive the exact bytes", writeSize)
		}
		if want := sha256.Sum256(data); !bytes.Equal(sha.Sum(nil), want[:]) {
			t.Errorf("write size %d: SHA-256 of the parallel writer differs from the data's", writeSize)
		}
		if want := md5.Sum(data); !bytes.Equal(sum.Sum(nil), want[:]) {
			t.Errorf("write size %d: MD5 of the parallel writer differs from the data's", writeSize)
		}
		for i, other := range w.others {
			if other.borrowed > laggingBuffers {
				t.Errorf("write size %d: writer %d took %d copies, want at most %d", writeSize, i, other.borrowed, laggingBuffers)
			}
		}
	}
}

func TestCopyTeeFeedsTee(t *testing.T) {
	cases := []struct {
		name     string
		size     int
		declared int64
	}{
		{"small declared body, hashed inline", 1000, 1000},
		{"large declared body, hashed in parallel", teeMinParallelSize + 7, teeMinParallelSize + 7},
		{"body of unknown size, hashed in parallel", 5000, -1},
		{"empty body", 0, 0},
	}
	for _, c := range cases {
		data := make([]byte, c.size)
		_, _ = rand.NewChaCha8([32]byte{byte(c.size)}).Read(data)
		var stored bytes.Buffer
		sum := md5.New()

		n, err := copyTee(&stored, sum, bytes.NewReader(data), c.declared)
		if err != nil {
			t.Fatalf("%s: copyTee: %v", c.name, err)
		}
		if n != int64(c.size) {
			t.Errorf("%s: copied %d bytes, want %d", c.name, n, c.size)
		}
		if !bytes.Equal(stored.Bytes(), data) {
			t.Errorf("%s: the writer did not receive the exact bytes", c.name)
		}
		// The tee must have every byte as soon as copyTee returns.
		if want := md5.Sum(data); !bytes.Equal(sum.Sum(nil), want[:]) {
			t.Errorf("%s: MD5 of the tee differs from the data's", c.name)
		}
	}
}

func TestCopyTeeWithoutTee(t *testing.T) {
	var stored bytes.Buffer
	n, err := copyTee(&stored, nil, bytes.NewReader([]byte("coffer")), 6)
	if err != nil {
		t.Fatalf("copyTee: %v", err)
	}
	if n != 6 {
		t.Errorf("copied %d bytes, want 6", n)
	}
	if stored.String() != "coffer" {
		t.Errorf("copied %q, want %q", stored.String(), "coffer")
	}
}

func TestCopyTeeRejectsShortBody(t *testing.T) {
	sum := md5.New()
	_, err := copyTee(io.Discard, sum, bytes.NewReader(make([]byte, teeMinParallelSize)), teeMinParallelSize+1)
	if !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("copyTee of a short body = %v, want ErrSizeMismatch", err)
	}
}
