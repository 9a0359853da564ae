package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

const (
	// outageWorkers is the number of concurrent clients of the mixed workload.
	outageWorkers = 6
	// phaseDeadline bounds each wait for the responses a phase expects. It only turns a stuck
	// server into a failure, because the phases end as soon as the responses have arrived.
	phaseDeadline = 2 * time.Minute
	// answersPerPhase is how many responses of the expected kind every operation must get
	// in a phase.
	answersPerPhase = 3
)

// reliabilityEnv configures short storage timeouts and a quick circuit breaker, so a
// backend fault turns into 503 responses within seconds.
var reliabilityEnv = []string{
	"COFFER_GC_ENABLED=false",
	"COFFER_STORAGE_RELIABILITY_OPERATION_TIMEOUT=2s",
	"COFFER_STORAGE_RELIABILITY_MAX_ATTEMPTS=3",
	"COFFER_STORAGE_RELIABILITY_BASE_DELAY=50ms",
	"COFFER_STORAGE_RELIABILITY_MAX_DELAY=200ms",
	"COFFER_STORAGE_RELIABILITY_BREAKER_THRESHOLD=5",
	"COFFER_STORAGE_RELIABILITY_BREAKER_COOLDOWN=1s",
}

// startChaos starts versitygw, a fault proxy in front of it and cofferd on the proxy, and a
// workload with outageWorkers clients. It returns the proxy, the workload and a function
// that stops the clients and waits for them.
func startChaos(t *testing.T) (*faultProxy, *workload, func()) {
	t.Helper()
	backend := startVersityGW(t)
	proxy := startFaultProxy(t, strings.TrimPrefix(backend.endpoint, "http://"))
	srv := startCofferOnS3(t, backend, "http://"+proxy.addr(), reliabilityEnv...)
	w := newWorkload(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	wait := w.run(ctx, outageWorkers)
	stop := func() {
		cancel()
		wait()
	}
	t.Cleanup(stop)
	return proxy, w, stop
}

// TestStorageOutage cuts the S3 backend in the middle of mixed OCI and S3 traffic. Clients
// must get 503 with Retry-After, never a hang or a 500; when the backend returns, traffic
// must resume without a restart of cofferd, and every acknowledged write must read back
// intact.
func TestStorageOutage(t *testing.T) {
	proxy, w, stop := startChaos(t)

	base, _ := w.snapshot()
	w.waitFor(t, base, "ok", answersPerPhase, phaseDeadline)

	proxy.cut()
	base, _ = w.snapshot()
	w.waitFor(t, base, "503", answersPerPhase, phaseDeadline)

	proxy.restore()
	base, _ = w.snapshot()
	w.waitFor(t, base, "ok", answersPerPhase, phaseDeadline)

	stop()
	counts, failures := w.snapshot()
	if len(failures) > 0 {
		t.Fatalf("unacceptable answers: %q", failures)
	}
	t.Logf("answers: %v", counts)
	w.verify(t)
}

// TestStorageFaults injects latency, a stalled backend and connection resets between cofferd
// and its S3 backend while mixed traffic runs. Latency only slows requests down. A stall
// and resets give 503 with Retry-After or success, never a hang, a 500 or wrong bytes. After
// each fault, traffic succeeds again.
func TestStorageFaults(t *testing.T) {
	proxy, w, stop := startChaos(t)
	t.Cleanup(proxy.heal) // a failed phase leaves its fault in place

	t.Run("latency", func(t *testing.T) {
		proxy.latency(150, 50)
		defer proxy.heal()
		base, _ := w.snapshot()
		w.waitFor(t, base, "ok", answersPerPhase, phaseDeadline)
	})
	t.Run("stall", func(t *testing.T) {
		proxy.stall()
		base, _ := w.snapshot()
		w.waitFor(t, base, "503", answersPerPhase, phaseDeadline)
		proxy.heal()
		base, _ = w.snapshot()
		w.waitFor(t, base, "ok", answersPerPhase, phaseDeadline)
	})
	t.Run("resets", func(t *testing.T) {
		// One connection in five is reset. An operation of several storage calls
		// succeeds when each call succeeds within its retries, so with more resets
		// the circuit breaker is open most of the time.
		proxy.resets(0.2)
		base, _ := w.snapshot()
		w.waitFor(t, base, "ok", 1, phaseDeadline)
		proxy.heal()
		base, _ = w.snapshot()
		w.waitFor(t, base, "ok", answersPerPhase, phaseDeadline)
	})

	stop()
	counts, failures := w.snapshot()
	if len(failures) > 0 {
		t.Fatalf("unacceptable answers: %q", failures)
	}
	t.Logf("answers: %v", counts)
	w.verify(t)
}
