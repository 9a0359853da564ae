package filesystem_test

import (
	"testing"

	"github.com/cofferhq/coffer/internal/storage/filesystem"
)

// BenchmarkWriteCommit writes and commits 64 MiB in 1 MiB writes per
// iteration, overwriting the same key each time.
func BenchmarkWriteCommit(b *testing.B) {
	const (
		total = 64 << 20
		chunk = 1 << 20
	)
	d, err := filesystem.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, chunk)
	for i := range data {
		data[i] = byte(i)
	}

	b.SetBytes(total)
	for b.Loop() {
		w, err := d.Writer(b.Context(), "bench/blob", 0)
		if err != nil {
			b.Fatalf("Writer: %v", err)
		}
		for written := 0; written < total; written += chunk {
			if _, err := w.Write(data); err != nil {
				b.Fatalf("Write: %v", err)
			}
		}
		if err := w.Commit(b.Context()); err != nil {
			b.Fatalf("Commit: %v", err)
		}
	}
}
