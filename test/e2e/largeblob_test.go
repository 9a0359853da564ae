package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// largeBlobSize is the blob pushed and pulled by TestLargeBlobMemory: large
// enough that any buffering of a whole body would show in the peak RSS.
const largeBlobSize = 5 << 30

// maxServerRSS is the peak resident memory cofferd may reach while it
// streams largeBlobSize in and out.
const maxServerRSS = 150 << 20

// TestLargeBlobMemory pushes and pulls a 5 GiB blob and checks that the
// server's peak RSS (VmHWM) stays under 150 MiB and the bytes round-trip.
func TestLargeBlobMemory(t *testing.T) {
	srv := startCoffer(t)
	client := newOCIClient(srv.addr)
	const seed = 5
	digest := patternDigest(seed, largeBlobSize)

	started := time.Now()
	client.pushMonolithic(t, "e2e/large", digest, newPatternReader(seed, largeBlobSize), largeBlobSize)
	pushed := time.Since(started)

	started = time.Now()
	got, status := client.blobDigest(t, "e2e/large", digest)
	pulled := time.Since(started)
	if status != 200 {
		t.Fatalf("pull status = %d, want 200", status)
	}
	if got != digest {
		t.Fatalf("pulled bytes hash to %s, pushed %s", got, digest)
	}

	peak := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("5 GiB push %v (%.0f MiB/s), pull %v (%.0f MiB/s), server peak RSS %d MiB",
		pushed.Round(time.Millisecond), mibPerSecond(largeBlobSize, pushed),
		pulled.Round(time.Millisecond), mibPerSecond(largeBlobSize, pulled), peak>>20)
	if peak >= maxServerRSS {
		t.Errorf("server peak RSS = %d MiB, want under %d MiB", peak>>20, maxServerRSS>>20)
	}
}

// peakRSS returns VmHWM, the peak resident set size of a process, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read process status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		value, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		if err != nil {
			t.Fatalf("parse VmHWM %q: %v", value, err)
		}
		return kib << 10
	}
	t.Fatal("no VmHWM line in /proc status")
	return 0
}

func mibPerSecond(bytes int64, d time.Duration) float64 {
	return float64(bytes) / (1 << 20) / d.Seconds()
}
