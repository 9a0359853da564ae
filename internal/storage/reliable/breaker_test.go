package reliable_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

// newBreakerHarness returns a harness without retries whose breaker opens
// after 3 consecutive failures for 10s.
func newBreakerHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, reliable.Options{MaxAttempts: 1, BreakerThreshold: 3, BreakerCooldown: 10 * time.Second})
}

// assertState fails the test unless the breaker is in state want.
func assertState(t *testing.T, h *harness, want reliable.State) {
	t.Helper()
	if got := h.driver.BreakerState(); got != want {
		t.Fatalf("breaker = %s, want %s", got, want)
	}
}

// assertRejected checks that err is a rejection by the open breaker with
// the wait want, and that the backend saw no call.
func assertRejected(t *testing.T, h *harness, err error, callsBefore int, want time.Duration) {
	t.Helper()
	if !errors.Is(err, reliable.ErrBreakerOpen) {
		t.Errorf("error = %v, want reliable.ErrBreakerOpen", err)
	}
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("error = %v, want it to wrap storage.ErrUnavailable", err)
	}
	var unavailable *storage.UnavailableError
	if !errors.As(err, &unavailable) {
		t.Fatalf("error = %v, want a *storage.UnavailableError", err)
	}
	if unavailable.RetryAfter != want {
		t.Errorf("RetryAfter = %s, want %s", unavailable.RetryAfter, want)
	}
	if calls := h.backend.count(opStat); calls != callsBefore {
		t.Errorf("backend stat calls = %d, want %d: a rejected call must not reach the backend", calls, callsBefore)
	}
}

func TestBreakerOpensAfterThreshold(t *testing.T) {
	h := newBreakerHarness(t)
	h.backend.setDown(storage.ErrUnavailable)

	for i := range 2 {
		if err := h.call(opStat); !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("call %d = %v, want storage.ErrUnavailable", i+1, err)
		}
		assertState(t, h, reliable.Closed)
	}
	err := h.call(opStat)
	assertState(t, h, reliable.Open)
	var unavailable *storage.UnavailableError
	if !errors.As(err, &unavailable) || unavailable.RetryAfter != 10*time.Second {
		t.Errorf("failure that opened the breaker = %v, want a *storage.UnavailableError with RetryAfter 10s", err)
	}

	assertRejected(t, h, h.call(opStat), 3, 10*time.Second)
	h.clock.advance(4 * time.Second)
	assertRejected(t, h, h.call(opStat), 3, 6*time.Second)
}

func TestBreakerCountsOnlyConsecutiveFailures(t *testing.T) {
	h := newBreakerHarness(t)
	h.put(t, "k", "abc")
	h.backend.fail(opStat, storage.ErrUnavailable, storage.ErrUnavailable, nil, storage.ErrUnavailable, storage.ErrUnavailable)

	for range 5 {
		_ = h.call(opStat)
	}
	assertState(t, h, reliable.Closed)
}

func TestBreakerCountsNotFoundAsSuccess(t *testing.T) {
	h := newBreakerHarness(t)
	h.backend.fail(opStat, storage.ErrUnavailable, storage.ErrUnavailable)

	for range 3 {
		_ = h.call(opStat) // the third finds no key: the backend responded
	}
	_ = h.call(opStat)
	assertState(t, h, reliable.Closed)
}

func TestBreakerHalfOpenProbe(t *testing.T) {
	h := newBreakerHarness(t)
	h.put(t, "k", "abc")
	h.backend.setDown(storage.ErrUnavailable)
	for range 3 {
		_ = h.call(opStat)
	}
	assertState(t, h, reliable.Open)

	// The probe after the cooldown fails: open for another cooldown.
	h.clock.advance(10 * time.Second)
	err := h.call(opStat)
	if calls := h.backend.count(opStat); calls != 4 {
		t.Fatalf("backend stat calls = %d, want 4: the probe must reach the backend", calls)
	}
	assertState(t, h, reliable.Open)
	var unavailable *storage.UnavailableError
	if !errors.As(err, &unavailable) || unavailable.RetryAfter != 10*time.Second {
		t.Errorf("failed probe = %v, want a *storage.UnavailableError with RetryAfter 10s", err)
	}
	h.clock.advance(9 * time.Second)
	assertRejected(t, h, h.call(opStat), 4, time.Second)

	// The next probe succeeds: closed.
	h.backend.setDown(nil)
	h.clock.advance(time.Second)
	if err := h.call(opStat); err != nil {
		t.Fatalf("probe = %v, want nil", err)
	}
	assertState(t, h, reliable.Closed)
	if err := h.call(opStat); err != nil {
		t.Errorf("call after the breaker closed = %v, want nil", err)
	}
}

func TestBreakerHalfOpenRejectsDuringProbe(t *testing.T) {
	h := newBreakerHarness(t)
	h.put(t, "k", "abc")
	h.backend.fail(opStat, storage.ErrUnavailable, storage.ErrUnavailable, storage.ErrUnavailable)
	for range 3 {
		_ = h.call(opStat)
	}
	h.clock.advance(10 * time.Second)

	gate := make(chan struct{})
	h.backend.setGate(opStat, gate)
	probe := make(chan error, 1)
	go func() { probe <- h.call(opStat) }()
	<-h.backend.entered
	assertState(t, h, reliable.HalfOpen)

	assertRejected(t, h, h.call(opStat), 4, 0)

	close(gate)
	if err := <-probe; err != nil {
		t.Fatalf("probe = %v, want nil", err)
	}
	assertState(t, h, reliable.Closed)
}

func TestBreakerReplacesLostProbe(t *testing.T) {
	h := newBreakerHarness(t)
	h.put(t, "k", "abc")
	h.backend.fail(opStat, storage.ErrUnavailable, storage.ErrUnavailable, storage.ErrUnavailable)
	for range 3 {
		_ = h.call(opStat)
	}
	h.clock.advance(10 * time.Second)

	gate := make(chan struct{})
	h.backend.setGate(opStat, gate)
	stuck := make(chan error, 1)
	go func() { stuck <- h.call(opStat) }()
	<-h.backend.entered

	// A probe in flight for a whole cooldown counts as lost.
	h.clock.advance(10 * time.Second)
	second := make(chan error, 1)
	go func() { second <- h.call(opStat) }()
	<-h.backend.entered
	if calls := h.backend.count(opStat); calls != 5 {
		t.Errorf("backend stat calls = %d, want 5: a new probe must replace the lost one", calls)
	}

	close(gate)
	for _, ch := range []chan error{stuck, second} {
		if err := <-ch; err != nil {
			t.Errorf("probe = %v, want nil", err)
		}
	}
	assertState(t, h, reliable.Closed)
}

func TestBreakerLogsStateChanges(t *testing.T) {
	h := newBreakerHarness(t)
	h.put(t, "k", "abc")
	h.backend.setDown(storage.ErrUnavailable)
	for range 4 {
		_ = h.call(opStat)
	}
	h.clock.advance(10 * time.Second)
	h.backend.setDown(nil)
	if err := h.call(opStat); err != nil {
		t.Fatalf("probe = %v, want nil", err)
	}

	const message = "storage circuit breaker changed state"
	want := []string{message, message, message}
	if got := h.logs.messages(slog.LevelWarn); !slices.Equal(got, want) {
		t.Fatalf("warnings = %q, want %q", got, want)
	}
	changes := []string{"closed>open", "open>half-open", "half-open>closed"}
	for i, change := range changes {
		got := fmt.Sprintf("%s>%s", h.logs.attr(slog.LevelWarn, i, "from"), h.logs.attr(slog.LevelWarn, i, "to"))
		if got != change {
			t.Errorf("change %d = %s, want %s", i, got, change)
		}
		if driver := h.logs.attr(slog.LevelWarn, i, "driver"); driver != "memory" {
			t.Errorf("change %d driver = %q, want memory", i, driver)
		}
	}
}

func TestBreakerProbeOfLeavingCallerIsReplaced(t *testing.T) {
	h := newBreakerHarness(t)
	h.put(t, "k", "abc")
	h.backend.fail(opStat, storage.ErrUnavailable, storage.ErrUnavailable, storage.ErrUnavailable)
	for range 3 {
		_ = h.call(opStat)
	}
	h.clock.advance(10 * time.Second)

	// The probe's caller leaves while the backend works on it.
	ctx, cancel := context.WithCancel(h.ctx)
	h.backend.setHold(opStat)
	h.backend.setGate(opStat, closedGate())
	go func() {
		<-h.backend.entered
		cancel()
	}()
	if _, err := h.driver.Stat(ctx, "k"); err == nil {
		t.Fatalf("Stat with a cancelled context succeeded")
	}
	assertState(t, h, reliable.HalfOpen)

	// The next call probes at once.
	h.backend.respond(opStat)
	if err := h.call(opStat); err != nil {
		t.Fatalf("next probe = %v, want nil", err)
	}
	assertState(t, h, reliable.Closed)
}

func TestStateString(t *testing.T) {
	for state, want := range map[reliable.State]string{reliable.Closed: "closed", reliable.HalfOpen: "half-open", reliable.Open: "open"} {
		if got := state.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(state), got, want)
		}
	}
}
