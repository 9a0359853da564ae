// Package reliable wraps any storage.Driver with retries, per-call
// timeouts and a circuit breaker. Short backend failures (a dropped
// connection, a throttling response, a store that restarts) then do not
// fail requests. A backend that stays down fails them at once with
// storage.ErrUnavailable and a wait hint, instead of holding every request
// for its whole retry budget.
//
// # Retries
//
// A call is retried with exponential backoff and full jitter when it fails
// with a transient error. Transient errors are those that wrap
// storage.ErrUnavailable, timeouts (OperationTimeout, context.DeadlineExceeded
// from the driver, a net.Error that timed out) and refused or reset
// connections.
// The contract's errors (ErrNotFound, ErrInvalidKey, ErrInvalidOffset) and
// every other error return at once, unchanged. Retrying stops as soon as
// the caller's context is done.
//
// Only whole calls are retried: Reader, Stat, Writer (the opening), Move,
// Delete and Walk. Read on a Reader and Write, Commit and Cancel on a
// Writer are never retried. The bytes of a stream come from the caller
// once and this layer does not keep them, so a half-written stream cannot
// be replayed from here. A caller retries a failed write as a whole from
// its own copy of the content, or resumes an upload session from its last
// committed offset.
//
// A retried Walk skips the keys up to the last one it delivered, relying on
// the contract's lexical order, so fn never sees a key twice. An attempt
// that failed may still have done its work before the response was lost. So
// a retried Delete that finds the key missing returns nil, and a retried
// Move that finds src missing and dst present returns nil.
//
// # Timeouts
//
// OperationTimeout bounds each attempt of Stat and Delete, the
// opening of a Reader or Writer, and in a Walk the wait for each next key
// (time spent in fn does not count). The bytes of a stream are bounded
// only by the caller's context, because a large blob may take far longer
// than any fixed timeout. An attempt of Move may take OperationTimeout
// plus the size of its source at MinCopyRate, because stores without a
// rename move by copying: S3 took minutes to move a 12 GiB blob.
//
// # Circuit breaker
//
// After BreakerThreshold consecutive transient failures the breaker opens.
// Calls then fail at once with a *storage.UnavailableError whose RetryAfter
// is the rest of BreakerCooldown. When the cooldown has passed, one call
// goes through as a probe (half-open). Its success closes the breaker, and
// its transient failure opens it for another cooldown. Any response from
// the backend counts as a success, ErrNotFound included.
package reliable

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
)

// Defaults of Options.
const (
	DefaultMaxAttempts      = 4
	DefaultBaseDelay        = 100 * time.Millisecond
	DefaultMaxDelay         = 2 * time.Second
	DefaultOperationTimeout = 30 * time.Second
	DefaultBreakerThreshold = 5
	DefaultBreakerCooldown  = 10 * time.Second
	DefaultMinCopyRate      = 10 << 20 // bytes per second
)

// ErrBreakerOpen reports a call that the circuit breaker rejected without
// calling the backend. It comes wrapped in a *storage.UnavailableError.
var ErrBreakerOpen = errors.New("storage circuit breaker is open")

// Options configures a Driver. A zero or negative field selects its
// default.
type Options struct {
	// MaxAttempts is the number of tries of one call, the first included.
	// Default 4; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the maximum wait before the first retry. The maximum
	// doubles for each later retry. Default 100ms.
	BaseDelay time.Duration
	// MaxDelay caps the maximum wait between two tries. Default 2s.
	MaxDelay time.Duration
	// OperationTimeout bounds one try of a call other than the streaming
	// of bytes (see the package documentation). Default 30s.
	OperationTimeout time.Duration
	// BreakerThreshold is the number of consecutive transient failures
	// that opens the circuit breaker. Default 5.
	BreakerThreshold int
	// BreakerCooldown is how long the open breaker rejects calls before it
	// lets a probe through. Default 10s.
	BreakerCooldown time.Duration
	// MinCopyRate is the slowest rate, in bytes per second, at which a
	// store is expected to copy content inside itself. A Move may take
	// OperationTimeout plus the size of its source at this rate, because
	// stores without a rename, such as S3, move by copying. Default 10 MiB/s.
	MinCopyRate int64

	// OnRetry, when set, is called with the operation name (such as
	// "Stat") each time a call is tried again after a transient failure.
	OnRetry func(operation string)

	// Sleep waits for d or until ctx is done, and then returns the
	// context's error. Default: a timer. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now returns the current time for the breaker. Default time.Now.
	Now func() time.Time
	// Jitter returns a random duration in [0, ceiling]. Default: uniform
	// from math/rand/v2.
	Jitter func(ceiling time.Duration) time.Duration
}

// withDefaults returns o with every unset field set to its default.
func (o Options) withDefaults() Options {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = DefaultOperationTimeout
	}
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = DefaultBreakerThreshold
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = DefaultBreakerCooldown
	}
	if o.MinCopyRate <= 0 {
		o.MinCopyRate = DefaultMinCopyRate
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = uniformJitter
	}
	return o
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}

func uniformJitter(ceiling time.Duration) time.Duration {
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// Operation names in logs and errors.
const (
	opReader = "reader"
	opStat   = "stat"
	opWriter = "writer"
	opMove   = "move"
	opDelete = "delete"
	opWalk   = "walk"
	opWrite  = "write"
	opCommit = "commit"
)

// RetriedOperations are the operation names that Options.OnRetry can
// receive.
var RetriedOperations = []string{opStat, opReader, opWriter, opMove, opDelete, opWalk}

// Driver is a storage.Driver that retries, times out and stops calling
// another one as described in the package documentation.
type Driver struct {
	next    storage.Driver
	opts    Options
	breaker *breaker
}

var _ storage.Driver = (*Driver)(nil)

// Wrap returns next wrapped with retries, timeouts and a circuit breaker
// configured by opts.
func Wrap(next storage.Driver, opts Options) *Driver {
	opts = opts.withDefaults()
	return &Driver{
		next:    next,
		opts:    opts,
		breaker: newBreaker(next.Name(), opts.BreakerThreshold, opts.BreakerCooldown, opts.Now),
	}
}

// Name returns the wrapped driver's name.
func (d *Driver) Name() string { return d.next.Name() }

// BreakerState returns the circuit breaker's state, for metrics. An open
// breaker reports Open after its cooldown until the next call makes it
// half-open.
func (d *Driver) BreakerState() State { return d.breaker.current() }

// Stat returns the wrapped driver's Stat, retried.
func (d *Driver) Stat(ctx context.Context, key string) (storage.Info, error) {
	var info storage.Info
	err := d.retry(ctx, opStat, key, func(ctx context.Context) error {
		return d.bounded(ctx, opStat, key, func(ctx context.Context) error {
			var err error
			info, err = d.next.Stat(ctx, key)
			return err
		})
	})
	return info, err
}

// Move moves src to dst, retried. A retry that finds src missing and dst
// present returns nil, because an earlier attempt may have moved it
// before its response was lost.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	attempts := 0
	return d.retry(ctx, opMove, src, func(ctx context.Context) error {
		attempts++
		err := d.boundedFor(ctx, opMove, src, d.moveTimeout(ctx, src), func(ctx context.Context) error {
			return d.next.Move(ctx, src, dst)
		})
		if attempts > 1 && errors.Is(err, storage.ErrNotFound) && d.exists(ctx, dst) {
			return nil
		}
		return err
	})
}

// exists reports whether key is known to exist.
func (d *Driver) exists(ctx context.Context, key string) bool {
	err := d.bounded(ctx, opStat, key, func(ctx context.Context) error {
		_, err := d.next.Stat(ctx, key)
		return err
	})
	return err == nil
}

// Delete removes key or the keys below it, retried. A retry that finds
// nothing to delete returns nil, because an earlier attempt may have
// deleted it before its response was lost.
func (d *Driver) Delete(ctx context.Context, key string) error {
	attempts := 0
	return d.retry(ctx, opDelete, key, func(ctx context.Context) error {
		attempts++
		err := d.bounded(ctx, opDelete, key, func(ctx context.Context) error {
			return d.next.Delete(ctx, key)
		})
		if attempts > 1 && errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
}

// Reader opens key, retrying the opening. Reads from the stream are not
// retried and are bounded only by ctx.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := d.retry(ctx, opReader, key, func(ctx context.Context) error {
		r, release, err := openBounded(d, ctx, opReader, key, func(ctx context.Context) (io.ReadCloser, error) {
			return d.next.Reader(ctx, key, offset)
		})
		if err != nil {
			return err
		}
		rc = &reader{ReadCloser: r, release: release, key: key}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rc, nil
}

// Writer opens key for writing, retrying the opening. Write, Commit and
// Cancel on the returned writer are not retried.
func (d *Driver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	return d.openWriter(ctx, key, func(ctx context.Context) (storage.Writer, error) {
		return d.next.Writer(ctx, key, offset)
	})
}

// SizedWriter opens key for content of size bytes through the wrapped
// driver's SizedWriter, where it has one, and retries the opening as
// Writer does.
func (d *Driver) SizedWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	return d.openWriter(ctx, key, func(ctx context.Context) (storage.Writer, error) {
		return storage.NewWriter(ctx, d.next, key, size)
	})
}

// TempWriter opens the temporary key through the wrapped driver's
// TempWriter, where it has one, and retries the opening as Writer does.
func (d *Driver) TempWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	return d.openWriter(ctx, key, func(ctx context.Context) (storage.Writer, error) {
		return storage.NewTempWriter(ctx, d.next, key, size)
	})
}

// openWriter retries open and wraps the writer it returns.
func (d *Driver) openWriter(ctx context.Context, key string, open func(ctx context.Context) (storage.Writer, error)) (storage.Writer, error) {
	var sw storage.Writer
	err := d.retry(ctx, opWriter, key, func(ctx context.Context) error {
		w, release, err := openBounded(d, ctx, opWriter, key, open)
		if err != nil {
			return err
		}
		sw = &writer{Writer: w, release: release, driver: d, key: key}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sw, nil
}
