package reliable

import (
	"bytes"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/storage/memory"
)

// A move may take OperationTimeout plus the time to copy its source at
// MinCopyRate: on S3, whose Move copies, a 12 GiB blob took minutes and
// every attempt ran out of a fixed 30s timeout.
func TestMoveTimeoutGrowsWithSize(t *testing.T) {
	backend := memory.New()
	w, err := backend.Writer(t.Context(), "big", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write(bytes.Repeat([]byte{1}, 3<<20)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	d := Wrap(backend, Options{OperationTimeout: time.Second, MinCopyRate: 1 << 20})

	if got, want := d.moveTimeout(t.Context(), "big"), 4*time.Second; got != want {
		t.Errorf("moveTimeout of 3 MiB at 1 MiB/s = %v, want %v", got, want)
	}
	if got, want := d.moveTimeout(t.Context(), "missing"), time.Second; got != want {
		t.Errorf("moveTimeout of a missing key = %v, want OperationTimeout %v", got, want)
	}
}
