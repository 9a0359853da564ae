package blob

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"io"
	"testing"
)

func TestParallelWriterFeedsEveryWriter(t *testing.T) {
	var stored bytes.Buffer
	sha, sum := sha256.New(), md5.New()
	w := newParallelWriter(&stored, sha, sum)
	data := bytes.Repeat([]byte("coffer"), 100_000)
	buf := make([]byte, 4096)
	if _, err := io.CopyBuffer(w, bytes.NewReader(data), buf); err != nil {
		t.Fatalf("copy: %v", err)
	}
	w.Close()

	if !bytes.Equal(stored.Bytes(), data) {
		t.Error("the first writer did not receive the exact bytes")
	}
	if want := sha256.Sum256(data); !bytes.Equal(sha.Sum(nil), want[:]) {
		t.Error("SHA-256 of the parallel writer differs from the data's")
	}
	if want := md5.Sum(data); !bytes.Equal(sum.Sum(nil), want[:]) {
		t.Error("MD5 of the parallel writer differs from the data's")
	}
}
