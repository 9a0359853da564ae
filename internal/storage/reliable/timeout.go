package reliable

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
)

// errAttemptTimedOut is the cancellation cause of an attempt that ran
// longer than OperationTimeout.
var errAttemptTimedOut = errors.New("storage call timed out")

// watchdog cancels an attempt's context when the attempt runs longer than
// OperationTimeout. Unlike context.WithTimeout it can be paused, as Walk
// does while fn runs, and stopped while the context stays alive, as a
// stream opened under it needs.
type watchdog struct {
	timer   *time.Timer
	timeout time.Duration
	cancel  context.CancelCauseFunc
}

// watch returns a context derived from ctx and the watchdog that cancels
// it after OperationTimeout.
func (d *Driver) watch(ctx context.Context) (context.Context, *watchdog) {
	return d.watchFor(ctx, d.opts.OperationTimeout)
}

// watchFor is watch with another timeout.
func (d *Driver) watchFor(ctx context.Context, timeout time.Duration) (context.Context, *watchdog) {
	attemptCtx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(timeout, func() { cancel(errAttemptTimedOut) })
	return attemptCtx, &watchdog{timer: timer, timeout: timeout, cancel: cancel}
}

// stop stops the timer and reports whether it had not fired yet. The
// context stays alive until release. pause is the same call, named for
// a watchdog that resume restarts.
func (w *watchdog) stop() bool  { return w.timer.Stop() }
func (w *watchdog) pause() bool { return w.timer.Stop() }

// resume restarts a paused watchdog with the whole timeout.
func (w *watchdog) resume() { w.timer.Reset(w.timeout) }

// release stops the timer and cancels the context. It may be called more
// than once.
func (w *watchdog) release() {
	w.timer.Stop()
	w.cancel(nil)
}

// timeoutError returns the error of an attempt that ran out of
// OperationTimeout. It wraps context.DeadlineExceeded, so it is transient.
func (d *Driver) timeoutError(op, key string) error {
	return timeoutErrorAfter(op, key, d.opts.OperationTimeout)
}

func timeoutErrorAfter(op, key string, timeout time.Duration) error {
	return fmt.Errorf("storage %s of %q timed out after %s: %w: %w",
		op, key, timeout, errAttemptTimedOut, context.DeadlineExceeded)
}

// bounded runs call under OperationTimeout. A call that fails after the
// timer fired returns a timeout error. A call that succeeds after it
// returns nil, because its result is complete.
func (d *Driver) bounded(ctx context.Context, op, key string, call func(ctx context.Context) error) error {
	return d.boundedFor(ctx, op, key, d.opts.OperationTimeout, call)
}

// boundedFor is bounded with another timeout.
func (d *Driver) boundedFor(ctx context.Context, op, key string, timeout time.Duration, call func(ctx context.Context) error) error {
	attemptCtx, wd := d.watchFor(ctx, timeout)
	defer wd.release()
	err := call(attemptCtx)
	if !wd.stop() && err != nil && ctx.Err() == nil {
		return timeoutErrorAfter(op, key, timeout)
	}
	return err
}

// moveTimeout returns the timeout of one attempt to move src: OperationTimeout plus the
// time a copy of its bytes takes at MinCopyRate, because a store without a rename (S3)
// moves by copying. When src cannot be inspected, the move itself reports why, so the
// timeout stays OperationTimeout.
func (d *Driver) moveTimeout(ctx context.Context, src string) time.Duration {
	var info storage.Info
	err := d.bounded(ctx, opStat, src, func(ctx context.Context) error {
		var err error
		info, err = d.next.Stat(ctx, src)
		return err
	})
	if err != nil || info.Size <= 0 {
		return d.opts.OperationTimeout
	}
	copying := time.Duration(float64(info.Size) / float64(d.opts.MinCopyRate) * float64(time.Second))
	return d.opts.OperationTimeout + copying
}

// openBounded runs open under OperationTimeout and returns the stream it
// opened with the attempt's context still alive, since drivers may tie the
// stream to it. The caller calls release once the stream is closed. A
// stream opened after the timer fired is closed and reported as a timeout,
// because its context is cancelled.
func openBounded[S io.Closer](d *Driver, ctx context.Context, op, key string, open func(ctx context.Context) (S, error)) (S, func(), error) {
	var none S
	attemptCtx, wd := d.watch(ctx)
	stream, err := open(attemptCtx)
	inTime := wd.stop()
	switch {
	case err != nil:
		wd.release()
		if !inTime && ctx.Err() == nil {
			return none, nil, d.timeoutError(op, key)
		}
		return none, nil, err
	case !inTime:
		_ = stream.Close()
		wd.release()
		if ctx.Err() != nil {
			return none, nil, fmt.Errorf("storage %s of %q: %w", op, key, context.Cause(ctx))
		}
		return none, nil, d.timeoutError(op, key)
	}
	return stream, wd.release, nil
}
