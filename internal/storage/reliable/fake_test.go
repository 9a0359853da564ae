package reliable_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// Operation names of the fake driver's plan and call counts.
const (
	opReader = "reader"
	opStat   = "stat"
	opWriter = "writer"
	opCommit = "commit"
	opMove   = "move"
	opDelete = "delete"
	opWalk   = "walk"
)

// lostResponse is a planned fault whose call does its work on the memory
// driver and then fails with err, as when the response is lost on the way
// back.
type lostResponse struct{ err error }

func (l lostResponse) Error() string { return "lost response: " + l.err.Error() }

// midWalk is a planned Walk fault that delivers keys keys and then fails
// with err.
type midWalk struct {
	keys int
	err  error
}

func (m midWalk) Error() string { return "walk fails midway: " + m.err.Error() }

// faultyDriver is a memory driver with injected faults. Each call of an
// operation takes the next planned error of that operation; a nil entry
// or an empty plan lets the call through. While down is set, calls with
// no planned error fail with it.
type faultyDriver struct {
	storage.Driver

	mu    sync.Mutex
	calls map[string]int
	plan  map[string][]error
	down  error
	// hold makes calls of an operation wait until their context is done
	// and return its error, as a backend that never responds.
	hold map[string]bool
	// gate, when set for an operation, makes its calls send on entered and
	// then wait for gate to be closed.
	gate    map[string]chan struct{}
	entered chan string
	// contexts are the contexts of the calls, by operation, in order.
	contexts map[string][]context.Context
}

func newFaultyDriver() *faultyDriver {
	return &faultyDriver{
		Driver:   memory.New(),
		calls:    map[string]int{},
		plan:     map[string][]error{},
		hold:     map[string]bool{},
		gate:     map[string]chan struct{}{},
		entered:  make(chan string, 16),
		contexts: map[string][]context.Context{},
	}
}

// fail plans errs for the next calls of op.
func (f *faultyDriver) fail(op string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plan[op] = append(f.plan[op], errs...)
}

// setDown makes every call fail with err, or lets calls through when err
// is nil.
func (f *faultyDriver) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = err
}

func (f *faultyDriver) setHold(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold[op] = true
}

func (f *faultyDriver) setGate(op string, gate chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gate[op] = gate
}

// respond ends the hold and the gate of op.
func (f *faultyDriver) respond(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.hold, op)
	delete(f.gate, op)
}

// count returns the number of calls of op so far.
func (f *faultyDriver) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// lastContext returns the context of the last call of op.
func (f *faultyDriver) lastContext(op string) context.Context {
	f.mu.Lock()
	defer f.mu.Unlock()
	contexts := f.contexts[op]
	return contexts[len(contexts)-1]
}

// fault records a call of op and returns its planned fault.
func (f *faultyDriver) fault(ctx context.Context, op string) error {
	f.mu.Lock()
	f.calls[op]++
	f.contexts[op] = append(f.contexts[op], ctx)
	var err error
	if planned := f.plan[op]; len(planned) > 0 {
		err, f.plan[op] = planned[0], planned[1:]
	} else {
		err = f.down
	}
	hold, gate := f.hold[op], f.gate[op]
	f.mu.Unlock()

	if gate != nil {
		f.entered <- op
		<-gate
	}
	if hold {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

// run calls call unless fault is an error other than lostResponse.
func run(fault error, call func() error) error {
	if lost, ok := fault.(lostResponse); ok {
		if err := call(); err != nil {
			return err
		}
		return lost.err
	}
	if fault != nil {
		return fault
	}
	return call()
}

func (f *faultyDriver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := run(f.fault(ctx, opReader), func() error {
		var err error
		rc, err = f.Driver.Reader(ctx, key, offset)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

func (f *faultyDriver) Stat(ctx context.Context, key string) (storage.Info, error) {
	var info storage.Info
	err := run(f.fault(ctx, opStat), func() error {
		var err error
		info, err = f.Driver.Stat(ctx, key)
		return err
	})
	return info, err
}

func (f *faultyDriver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	var w storage.Writer
	err := run(f.fault(ctx, opWriter), func() error {
		var err error
		w, err = f.Driver.Writer(ctx, key, offset)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &faultyWriter{Writer: w, driver: f}, nil
}

func (f *faultyDriver) Move(ctx context.Context, src, dst string) error {
	return run(f.fault(ctx, opMove), func() error { return f.Driver.Move(ctx, src, dst) })
}

func (f *faultyDriver) Delete(ctx context.Context, key string) error {
	return run(f.fault(ctx, opDelete), func() error { return f.Driver.Delete(ctx, key) })
}

func (f *faultyDriver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	fault := f.fault(ctx, opWalk)
	mid, ok := fault.(midWalk)
	if !ok {
		return run(fault, func() error { return f.Driver.Walk(ctx, prefix, fn) })
	}
	delivered := 0
	err := f.Driver.Walk(ctx, prefix, func(info storage.Info) error {
		if delivered == mid.keys {
			return mid.err
		}
		delivered++
		return fn(info)
	})
	return err
}

// faultyWriter fails Commit with the driver's planned faults for opCommit.
type faultyWriter struct {
	storage.Writer
	driver *faultyDriver
}

func (w *faultyWriter) Commit(ctx context.Context) error {
	return run(w.driver.fault(ctx, opCommit), func() error { return w.Writer.Commit(ctx) })
}

// clock is a fake clock that moves only when advance is called.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sleeper is a fake Options.Sleep that records the delays and returns at
// once.
type sleeper struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeper) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// logRecorder is a slog.Handler that keeps the records it handles.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// messages returns the messages of the records at level, in order.
func (l *logRecorder) messages(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.records {
		if r.Level == level {
			out = append(out, r.Message)
		}
	}
	return out
}

// attr returns the value of attribute key of the i-th record at level.
func (l *logRecorder) attr(level slog.Level, i int, key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r.Level != level {
			continue
		}
		if n == i {
			value := ""
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == key {
					value = a.Value.String()
					return false
				}
				return true
			})
			return value
		}
		n++
	}
	return ""
}
