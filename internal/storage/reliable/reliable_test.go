package reliable_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/reliable"
	s3storage "github.com/cofferhq/coffer/internal/storage/s3"
	"github.com/cofferhq/coffer/internal/storage/storagetest"
	"github.com/cofferhq/coffer/internal/telemetry"
)

func TestDriverContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver {
		return reliable.Wrap(memory.New(), reliable.Options{Sleep: (&sleeper{}).Sleep})
	})
}

// harness is a reliable driver over a faulty one, with a fake sleep, a
// fake clock and a log recorder in its context.
type harness struct {
	backend *faultyDriver
	driver  *reliable.Driver
	sleeper *sleeper
	clock   *clock
	logs    *logRecorder
	ctx     context.Context
}

func newHarness(t *testing.T, opts reliable.Options) *harness {
	t.Helper()
	h := &harness{backend: newFaultyDriver(), sleeper: &sleeper{}, clock: newClock(), logs: &logRecorder{}}
	opts.Sleep, opts.Now = h.sleeper.Sleep, h.clock.Now
	h.driver = reliable.Wrap(h.backend, opts)
	h.ctx = telemetry.WithLogger(t.Context(), slog.New(h.logs))
	return h
}

// put stores content under key on the backend directly.
func (h *harness) put(t *testing.T, key, content string) {
	t.Helper()
	w, err := h.backend.Driver.Writer(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Writer(%q): %v", key, err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatalf("Write %q: %v", key, err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit %q: %v", key, err)
	}
}

// call runs operation op on key "k" (src "k", dst "moved" for Move).
func (h *harness) call(op string) error {
	switch op {
	case opStat:
		_, err := h.driver.Stat(h.ctx, "k")
		return err
	case opReader:
		rc, err := h.driver.Reader(h.ctx, "k", 0)
		if err == nil {
			err = rc.Close()
		}
		return err
	case opWriter:
		w, err := h.driver.Writer(h.ctx, "k", 0)
		if err == nil {
			err = w.Close()
		}
		return err
	case opMove:
		return h.driver.Move(h.ctx, "k", "moved")
	case opDelete:
		return h.driver.Delete(h.ctx, "k")
	case opWalk:
		return h.driver.Walk(h.ctx, "", func(storage.Info) error { return nil })
	}
	panic("unknown operation " + op)
}

var retriedOperations = []string{opStat, opReader, opWriter, opMove, opDelete, opWalk}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

func TestRetryTransientErrors(t *testing.T) {
	transient := []struct {
		name string
		err  error
	}{
		{"ErrUnavailable", fmt.Errorf("read: %w", storage.ErrUnavailable)},
		{"ErrThrottled", fmt.Errorf("read: %w", storage.ErrThrottled)},
		{"s3 ErrThrottled", fmt.Errorf("read: %w", s3storage.ErrThrottled)},
		{"s3 ErrUnavailable", fmt.Errorf("read: %w", s3storage.ErrUnavailable)},
		{"deadline exceeded", fmt.Errorf("read: %w", context.DeadlineExceeded)},
		{"net timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}},
	}
	for _, op := range retriedOperations {
		for _, tt := range transient {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				var retried []string
				h := newHarness(t, reliable.Options{BreakerThreshold: 100, OnRetry: func(operation string) {
					retried = append(retried, operation)
				}})
				h.put(t, "k", "abc")
				h.backend.fail(op, tt.err, tt.err)

				if err := h.call(op); err != nil {
					t.Fatalf("%s after two transient failures = %v, want nil", op, err)
				}
				if got := h.backend.count(op); got != 3 {
					t.Errorf("backend %s calls = %d, want 3", op, got)
				}
				if got := len(h.sleeper.recorded()); got != 2 {
					t.Errorf("sleeps = %d, want 2", got)
				}
				if len(retried) != 2 {
					t.Errorf("OnRetry calls = %q, want two", retried)
				}
			})
		}
	}
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	for _, op := range retriedOperations {
		t.Run(op, func(t *testing.T) {
			h := newHarness(t, reliable.Options{MaxAttempts: 3, BreakerThreshold: 100})
			h.put(t, "k", "abc")
			cause := fmt.Errorf("store answered 503: %w", s3storage.ErrUnavailable)
			h.backend.setDown(cause)

			err := h.call(op)
			if got := h.backend.count(op); got != 3 {
				t.Errorf("backend %s calls = %d, want 3", op, got)
			}
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("%s = %v, want it to wrap storage.ErrUnavailable", op, err)
			}
			if !errors.Is(err, cause) {
				t.Errorf("%s = %v, want it to wrap the last backend error", op, err)
			}
			var unavailable *storage.UnavailableError
			if !errors.As(err, &unavailable) {
				t.Fatalf("%s = %v, want a *storage.UnavailableError", op, err)
			}
			if unavailable.RetryAfter != 0 {
				t.Errorf("RetryAfter = %s, want 0 while the breaker is closed", unavailable.RetryAfter)
			}
		})
	}
}

func TestRetrySkipsOtherErrors(t *testing.T) {
	other := errors.New("access denied")
	errs := []struct {
		name string
		err  error
	}{
		{"ErrNotFound", fmt.Errorf("stat: %w", storage.ErrNotFound)},
		{"ErrInvalidKey", fmt.Errorf("stat: %w", storage.ErrInvalidKey)},
		{"ErrInvalidOffset", fmt.Errorf("stat: %w", storage.ErrInvalidOffset)},
		{"other error", other},
		{"canceled by the backend", fmt.Errorf("stat: %w", context.Canceled)},
	}
	for _, op := range retriedOperations {
		for _, tt := range errs {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t, reliable.Options{BreakerThreshold: 1})
				h.put(t, "k", "abc")
				h.backend.fail(op, tt.err)

				err := h.call(op)
				if err != tt.err {
					t.Errorf("%s = %v, want the backend's error unchanged", op, err)
				}
				if got := h.backend.count(op); got != 1 {
					t.Errorf("backend %s calls = %d, want 1", op, got)
				}
				if got := h.driver.BreakerState(); got != reliable.Closed {
					t.Errorf("breaker = %s, want closed", got)
				}
			})
		}
	}
}

func TestBackoffDoublesUpToMaxDelay(t *testing.T) {
	var ceilings []time.Duration
	h := newHarness(t, reliable.Options{
		MaxAttempts: 7, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, BreakerThreshold: 100,
		Jitter: func(ceiling time.Duration) time.Duration {
			ceilings = append(ceilings, ceiling)
			return ceiling / 2
		},
	})
	h.backend.setDown(storage.ErrUnavailable)

	_ = h.call(opStat)
	wantCeilings := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range wantCeilings {
		wantCeilings[i] *= time.Millisecond
	}
	if !slices.Equal(ceilings, wantCeilings) {
		t.Errorf("jitter ceilings = %v, want %v", ceilings, wantCeilings)
	}
	wantDelays := make([]time.Duration, len(wantCeilings))
	for i, c := range wantCeilings {
		wantDelays[i] = c / 2
	}
	if got := h.sleeper.recorded(); !slices.Equal(got, wantDelays) {
		t.Errorf("sleeps = %v, want %v", got, wantDelays)
	}
}

func TestBackoffDefaultJitterStaysInBounds(t *testing.T) {
	const attempts = 50
	h := newHarness(t, reliable.Options{
		MaxAttempts: attempts, BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond, BreakerThreshold: 1000,
	})
	h.backend.setDown(storage.ErrUnavailable)

	_ = h.call(opStat)
	delays := h.sleeper.recorded()
	if len(delays) != attempts-1 {
		t.Fatalf("sleeps = %d, want %d", len(delays), attempts-1)
	}
	ceiling := 10 * time.Millisecond
	for i, delay := range delays {
		if delay < 0 || delay > ceiling {
			t.Errorf("sleep %d = %s, want within [0, %s]", i+1, delay, ceiling)
		}
		ceiling = min(2*ceiling, 80*time.Millisecond)
	}
}

func TestRetryLogsOneWarningPerRetry(t *testing.T) {
	h := newHarness(t, reliable.Options{BreakerThreshold: 100})
	h.put(t, "k", "abc")
	h.backend.fail(opStat, storage.ErrUnavailable, storage.ErrUnavailable)

	if _, err := h.driver.Stat(h.ctx, "k"); err != nil {
		t.Fatalf("Stat: %v", err)
	}
	want := []string{"storage call failed, retrying", "storage call failed, retrying"}
	if got := h.logs.messages(slog.LevelWarn); !slices.Equal(got, want) {
		t.Fatalf("warnings = %q, want %q", got, want)
	}
	for i, wantAttempt := range []string{"1", "2"} {
		if got := h.logs.attr(slog.LevelWarn, i, "attempt"); got != wantAttempt {
			t.Errorf("warning %d attempt = %q, want %q", i, got, wantAttempt)
		}
		if got := h.logs.attr(slog.LevelWarn, i, "operation"); got != "stat" {
			t.Errorf("warning %d operation = %q, want stat", i, got)
		}
		if got := h.logs.attr(slog.LevelWarn, i, "key"); got != "k" {
			t.Errorf("warning %d key = %q, want k", i, got)
		}
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	t.Run("during backoff", func(t *testing.T) {
		h := newHarness(t, reliable.Options{BreakerThreshold: 100})
		ctx, cancel := context.WithCancel(h.ctx)
		h.driver = reliable.Wrap(h.backend, reliable.Options{
			BreakerThreshold: 100,
			Sleep: func(ctx context.Context, d time.Duration) error {
				cancel() // the client leaves while the driver waits
				return ctx.Err()
			},
		})
		h.backend.setDown(storage.ErrUnavailable)

		_, err := h.driver.Stat(ctx, "k")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stat = %v, want it to wrap context.Canceled", err)
		}
		if got := h.backend.count(opStat); got != 1 {
			t.Errorf("backend stat calls = %d, want 1", got)
		}
	})
	t.Run("before the first attempt", func(t *testing.T) {
		h := newHarness(t, reliable.Options{})
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()

		_, err := h.driver.Stat(ctx, "k")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stat = %v, want it to wrap context.Canceled", err)
		}
		if got := h.backend.count(opStat); got != 0 {
			t.Errorf("backend stat calls = %d, want 0", got)
		}
	})
	t.Run("during an attempt", func(t *testing.T) {
		h := newHarness(t, reliable.Options{BreakerThreshold: 1})
		ctx, cancel := context.WithCancel(h.ctx)
		h.backend.setHold(opStat)
		go func() {
			<-h.backend.entered
			cancel()
		}()
		h.backend.setGate(opStat, closedGate())

		_, err := h.driver.Stat(ctx, "k")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stat = %v, want it to wrap context.Canceled", err)
		}
		if got := h.backend.count(opStat); got != 1 {
			t.Errorf("backend stat calls = %d, want 1", got)
		}
		if got := h.driver.BreakerState(); got != reliable.Closed {
			t.Errorf("breaker = %s, want closed: a call the client left says nothing about the backend", got)
		}
	})
}

// closedGate returns a closed channel: a gate that lets calls through
// after they signal that they entered.
func closedGate() chan struct{} {
	gate := make(chan struct{})
	close(gate)
	return gate
}

func TestOperationTimeoutIsRetried(t *testing.T) {
	for _, op := range retriedOperations {
		t.Run(op, func(t *testing.T) {
			h := newHarness(t, reliable.Options{MaxAttempts: 2, OperationTimeout: time.Millisecond, BreakerThreshold: 100})
			h.put(t, "k", "abc")
			h.backend.setHold(op)

			err := h.call(op)
			if got := h.backend.count(op); got != 2 {
				t.Errorf("backend %s calls = %d, want 2", op, got)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s = %v, want it to wrap context.DeadlineExceeded", op, err)
			}
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("%s = %v, want it to wrap storage.ErrUnavailable", op, err)
			}
			if h.ctx.Err() != nil {
				t.Errorf("caller's context ended: %v", h.ctx.Err())
			}
		})
	}
}

func TestReaderStreamOutlivesOpening(t *testing.T) {
	h := newHarness(t, reliable.Options{})
	h.put(t, "k", "abc")

	rc, err := h.driver.Reader(h.ctx, "k", 0)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	streamCtx := h.backend.lastContext(opReader)
	if err := streamCtx.Err(); err != nil {
		t.Fatalf("context of the open stream ended: %v", err)
	}
	data, err := io.ReadAll(rc)
	if err != nil || string(data) != "abc" {
		t.Fatalf("read %q, %v; want abc", data, err)
	}
	if err := rc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if streamCtx.Err() == nil {
		t.Errorf("context of the stream still alive after Close")
	}
}

func TestWriterWriteAndCommitAreNotRetried(t *testing.T) {
	h := newHarness(t, reliable.Options{BreakerThreshold: 100})
	h.backend.fail(opWriter, storage.ErrUnavailable)
	h.backend.fail(opCommit, storage.ErrUnavailable)

	w, err := h.driver.Writer(h.ctx, "k", 0)
	if err != nil {
		t.Fatalf("Writer after one transient failure: %v", err)
	}
	if got := h.backend.count(opWriter); got != 2 {
		t.Errorf("backend writer calls = %d, want 2", got)
	}
	if _, err := io.WriteString(w, "abc"); err != nil {
		t.Fatalf("Write: %v", err)
	}
	writerCtx := h.backend.lastContext(opWriter)

	err = w.Commit(h.ctx)
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Commit = %v, want storage.ErrUnavailable", err)
	}
	if got := h.backend.count(opCommit); got != 1 {
		t.Errorf("backend commit calls = %d, want 1", got)
	}
	if writerCtx.Err() != nil {
		t.Errorf("context of the writer ended after a failed Commit; Cancel or Close still need it")
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after a failed Commit: %v", err)
	}
	if writerCtx.Err() == nil {
		t.Errorf("context of the writer still alive after Close")
	}
}

func TestWalkResumesAfterLastKey(t *testing.T) {
	h := newHarness(t, reliable.Options{BreakerThreshold: 100})
	keys := []string{"a", "b", "c", "d", "e"}
	for _, key := range keys {
		h.put(t, key, key)
	}
	h.backend.fail(opWalk, midWalk{keys: 2, err: storage.ErrUnavailable}, midWalk{keys: 3, err: storage.ErrUnavailable})

	var got []string
	err := h.driver.Walk(h.ctx, "", func(info storage.Info) error {
		got = append(got, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if !slices.Equal(got, keys) {
		t.Errorf("keys = %q, want %q", got, keys)
	}
	if calls := h.backend.count(opWalk); calls != 3 {
		t.Errorf("backend walk calls = %d, want 3", calls)
	}
}

func TestWalkReturnsCallbackErrorUnretried(t *testing.T) {
	h := newHarness(t, reliable.Options{BreakerThreshold: 1})
	h.put(t, "a", "a")
	h.put(t, "b", "b")
	stop := fmt.Errorf("fn failed: %w", storage.ErrUnavailable)

	var got []string
	err := h.driver.Walk(h.ctx, "", func(info storage.Info) error {
		got = append(got, info.Key)
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("Walk = %v, want fn's error", err)
	}
	if !slices.Equal(got, []string{"a"}) {
		t.Errorf("keys = %q, want [a]", got)
	}
	if calls := h.backend.count(opWalk); calls != 1 {
		t.Errorf("backend walk calls = %d, want 1", calls)
	}
	if state := h.driver.BreakerState(); state != reliable.Closed {
		t.Errorf("breaker = %s, want closed", state)
	}
}

func TestRetryAfterLostResponse(t *testing.T) {
	t.Run("move", func(t *testing.T) {
		h := newHarness(t, reliable.Options{BreakerThreshold: 100})
		h.put(t, "k", "abc")
		h.backend.fail(opMove, lostResponse{storage.ErrUnavailable})

		if err := h.driver.Move(h.ctx, "k", "moved"); err != nil {
			t.Errorf("Move = %v, want nil: the first attempt moved the key", err)
		}
		if calls := h.backend.count(opMove); calls != 2 {
			t.Errorf("backend move calls = %d, want 2", calls)
		}
	})
	t.Run("move of a missing key", func(t *testing.T) {
		h := newHarness(t, reliable.Options{BreakerThreshold: 100})
		h.backend.fail(opMove, storage.ErrUnavailable)

		if err := h.driver.Move(h.ctx, "k", "moved"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Move = %v, want storage.ErrNotFound", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		h := newHarness(t, reliable.Options{BreakerThreshold: 100})
		h.put(t, "k", "abc")
		h.backend.fail(opDelete, lostResponse{storage.ErrUnavailable})

		if err := h.driver.Delete(h.ctx, "k"); err != nil {
			t.Errorf("Delete = %v, want nil: the first attempt deleted the key", err)
		}
		if calls := h.backend.count(opDelete); calls != 2 {
			t.Errorf("backend delete calls = %d, want 2", calls)
		}
	})
	t.Run("first delete of a missing key", func(t *testing.T) {
		h := newHarness(t, reliable.Options{})
		if err := h.driver.Delete(h.ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Delete = %v, want storage.ErrNotFound", err)
		}
	})
}
