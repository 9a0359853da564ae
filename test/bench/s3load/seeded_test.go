package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
)

// sequential returns the whole object as Read produces it, in reads of
// readSize bytes.
func sequential(t *testing.T, seed uint64, size int64, readSize int) []byte {
	t.Helper()
	reader := newSeededReader(seed, size)
	var out bytes.Buffer
	buffer := make([]byte, readSize)
	for {
		n, err := reader.Read(buffer)
		out.Write(buffer[:n])
		if errors.Is(err, io.EOF) {
			return out.Bytes()
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
	}
}

func TestSeededReadSizesAgree(t *testing.T) {
	const size = 3*seededBlockSize + 1234
	want := sequential(t, 7, size, 1<<20)
	if len(want) != size {
		t.Fatalf("Read returned %d bytes, expected %d", len(want), size)
	}
	for _, readSize := range []int{1, 1000, seededBlockSize - 1, seededBlockSize, 32 << 10} {
		if got := sequential(t, 7, size, readSize); !bytes.Equal(got, want) {
			t.Errorf("reads of %d bytes returned other data than reads of 1 MiB", readSize)
		}
	}
}

func TestSeededReadAtMatchesRead(t *testing.T) {
	const size = 4*seededBlockSize + 99
	want := sequential(t, 3, size, 4096)
	object := seededObject{seed: 3, size: size}
	cases := []struct {
		off, length int64
	}{
		{0, size},
		{0, seededBlockSize},
		{seededBlockSize, 2 * seededBlockSize},
		{17, 5},
		{seededBlockSize - 3, 10},
		{seededBlockSize + 1, 2*seededBlockSize + 50},
		{size - 99, 99},
	}
	for _, c := range cases {
		got := make([]byte, c.length)
		n, err := object.ReadAt(got, c.off)
		if err != nil {
			t.Errorf("ReadAt(%d bytes, %d): %v", c.length, c.off, err)
		}
		if int64(n) != c.length {
			t.Errorf("ReadAt(%d bytes, %d) = %d bytes", c.length, c.off, n)
		}
		if !bytes.Equal(got, want[c.off:c.off+c.length]) {
			t.Errorf("ReadAt(%d bytes, %d) returned other data than Read", c.length, c.off)
		}
	}
}

func TestSeededReadAtPastEnd(t *testing.T) {
	object := seededObject{seed: 1, size: 100}
	buffer := make([]byte, 50)
	n, err := object.ReadAt(buffer, 80)
	if n != 20 {
		t.Errorf("ReadAt over the end = %d bytes, expected 20", n)
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt over the end error = %v, expected io.EOF", err)
	}
	n, err = object.ReadAt(buffer, 100)
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("ReadAt at the end = %d, %v, expected 0, io.EOF", n, err)
	}
}

func TestSeededSeekThenRead(t *testing.T) {
	const size = 2*seededBlockSize + 10
	want := sequential(t, 5, size, 4096)
	reader := newSeededReader(5, size)

	end, err := reader.Seek(0, io.SeekEnd)
	if err != nil || end != size {
		t.Fatalf("Seek to end = %d, %v, expected %d", end, err, size)
	}
	if _, err := reader.Seek(seededBlockSize+5, io.SeekStart); err != nil {
		t.Fatalf("Seek: %v", err)
	}
	rest, err := io.ReadAll(reader)
	if err != nil {
		t.Fatalf("ReadAll after Seek: %v", err)
	}
	if !bytes.Equal(rest, want[seededBlockSize+5:]) {
		t.Error("Read after Seek returned other data than a read from the start")
	}
	if _, err := reader.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative position succeeded")
	}
}

func TestSeededSeedsDiffer(t *testing.T) {
	if bytes.Equal(seededBytes(1, 4096), seededBytes(2, 4096)) {
		t.Error("seeds 1 and 2 generated the same bytes")
	}
}

func TestSeededSHA256(t *testing.T) {
	const size = seededBlockSize + 7
	want := sha256.Sum256(sequential(t, 9, size, 4096))
	if got := (seededObject{seed: 9, size: size}).sha256Sum(); got != want {
		t.Errorf("sha256Sum = %x, expected %x", got, want)
	}
}
