package filesystem

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// directSupported reports whether the filesystem of dir takes O_DIRECT.
func directSupported(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return setDirect(f, true) == nil
}

// newTestDriver returns a driver on a new temporary directory, and the
// directory.
func newTestDriver(t *testing.T) (*Driver, string) {
	t.Helper()
	root := t.TempDir()
	d, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	return d, root
}

func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	return b
}

func TestDirectWriteOfLargeContent(t *testing.T) {
	for _, size := range []int{3<<20 + 5, 2 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) { testDirectWrite(t, size) })
	}
}

// testDirectWrite writes size bytes, of which all full 1 MiB buffers must
// go with direct I/O, and checks the stored file.
func testDirectWrite(t *testing.T, size int) {
	ctx := t.Context()
	d, root := newTestDriver(t)
	content := pseudoRandom(size, 1)

	w, err := d.Writer(ctx, "large", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Writes of 512 KiB fill the 1 MiB buffer twice per flush, as blob
	// uploads do.
	for rest := content; len(rest) > 0; {
		n := min(len(rest), 512<<10)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	target := w.(*fileWriter).target
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	got, err := os.ReadFile(filepath.Join(root, "large"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("stored %d bytes that differ from the %d written", len(got), len(content))
	}
	if want := int64(size) &^ (writeBufferSize - 1); directSupported(t, root) && target.directBytes != want {
		t.Fatalf("bytes written with direct I/O = %d, want the full buffers (%d)", target.directBytes, want)
	}
}

func TestDirectWriteSkipsSmallContent(t *testing.T) {
	ctx := t.Context()
	d, _ := newTestDriver(t)
	w, err := d.Writer(ctx, "small", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pseudoRandom(4096, 2)); err != nil {
		t.Fatal(err)
	}
	target := w.(*fileWriter).target
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if target.directBytes != 0 || target.direct {
		t.Fatalf("a 4 KiB write used direct I/O: %d bytes", target.directBytes)
	}
}

func TestDirectReaderReturnsContent(t *testing.T) {
	ctx := t.Context()
	d, root := newTestDriver(t)
	content := pseudoRandom(directReadMinSize+4096*3+7, 3)
	if err := os.WriteFile(filepath.Join(root, "blob"), content, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		offset int64
		buffer int // size of the caller's read buffer
		direct bool
	}{
		{"aligned buffer from zero", 0, 1 << 20, true},
		{"odd buffer from zero", 0, 1000, true},
		{"aligned offset", 4096, 64 << 10, true},
		{"unaligned offset", 4097, 64 << 10, false},
		{"remainder below the minimum", int64(len(content)) - directReadMinSize + 4096, 1 << 20, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := d.Reader(ctx, "blob", tt.offset)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			_, isDirect := rc.(*directReader)
			if want := tt.direct && directSupported(t, t.TempDir()); isDirect != want {
				t.Fatalf("direct reader = %v, want %v", isDirect, want)
			}
			var got bytes.Buffer
			// The structs hide WriteTo and ReadFrom, so every read uses
			// the buffer.
			dst, src := struct{ io.Writer }{&got}, struct{ io.Reader }{rc}
			if _, err := io.CopyBuffer(dst, src, make([]byte, tt.buffer)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), content[tt.offset:]) {
				t.Fatalf("read %d bytes that differ from the %d stored past offset %d", got.Len(), len(content)-int(tt.offset), tt.offset)
			}
		})
	}
}

func TestDisableDirectIOKeepsPageCache(t *testing.T) {
	ctx := t.Context()
	d, _ := newTestDriver(t)
	d.DisableDirectIO()
	content := pseudoRandom(directReadMinSize+5, 4)

	w, err := d.Writer(ctx, "large", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatal(err)
	}
	target := w.(*fileWriter).target
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if target.directBytes != 0 {
		t.Fatalf("bytes written with direct I/O = %d, want 0", target.directBytes)
	}

	rc, err := d.Reader(ctx, "large", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, ok := rc.(*directReader); ok {
		t.Fatal("Reader returned a direct reader with direct I/O disabled")
	}
}

func TestDirectWritesReportBackgroundFailure(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "closed"))
	if err != nil {
		t.Fatal(err)
	}
	w := newDirectWrites(f)
	buffer := alignedBuffer(writeBufferSize)
	if err := w.write(buffer); err != nil {
		t.Fatalf("first write: %v", err)
	}
	// The file closes under the queue, so a later write fails in the
	// background.
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	_ = w.write(buffer)
	if err := w.finish(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("finish = %v, want the background error %v", err, os.ErrClosed)
	}
}
