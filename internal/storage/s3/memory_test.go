package s3

import (
	"runtime"
	"testing"
)

// TestWriterMemoryBounded writes 64 MiB and checks that the heap in use
// grows by about one part buffer, not by the content.
func TestWriterMemoryBounded(t *testing.T) {
	isolateAWSConfig(t)
	backend := startMoto(t)
	buckets := 0
	d := backend.newDriver(t, &buckets, testPrefix)

	const (
		total = 64 << 20
		chunk = 1 << 20
		// limit is one 8 MiB part buffer plus room for the SDK's requests.
		limit = 24 << 20
	)
	content := randomBytes(chunk, 1)

	// Two collections empty the part buffer pools, whose buffers earlier
	// tests may have left, so the writer allocates its buffer anew.
	runtime.GC()
	baseline := heapInUse()
	w, err := d.Writer(t.Context(), "big", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	var peak uint64
	for range total / chunk {
		if _, err := w.Write(content); err != nil {
			t.Fatalf("Write: %v", err)
		}
		peak = max(peak, heapInUse())
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	info, err := d.Stat(t.Context(), "big")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != total {
		t.Errorf("Stat size = %d, want %d", info.Size, total)
	}
	growth := int64(peak) - int64(baseline)
	t.Logf("heap in use grew by %.1f MiB while writing %d MiB", float64(growth)/(1<<20), total>>20)
	if growth > limit {
		t.Errorf("heap in use grew by %d bytes while writing %d, want at most %d", growth, total, limit)
	}
}

// heapInUse collects garbage and returns the bytes of heap spans in use,
// which is then the memory that something still references.
func heapInUse() uint64 {
	runtime.GC()
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	return stats.HeapInuse
}
