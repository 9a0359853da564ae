package reliable

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// retry runs attempt until it succeeds, fails with an error that is not
// transient, runs out of MaxAttempts, the breaker rejects it or ctx is
// done. Errors that are not transient return unchanged.
func (d *Driver) retry(ctx context.Context, op, key string, attempt func(ctx context.Context) error) error {
	var last error
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return stopped(ctx, op, key, last)
		}
		probe, wait, admitted := d.breaker.admit(ctx)
		if !admitted {
			return rejected(op, key, wait, last)
		}

		err := attempt(ctx)
		transient := isTransient(ctx, err)
		d.breaker.settle(ctx, probe, resultOf(ctx, err, transient))
		if !transient {
			return err
		}
		last = err
		if wait := d.breaker.remaining(); wait > 0 {
			return rejected(op, key, wait, last) // this failure opened it
		}
		if n >= d.opts.MaxAttempts {
			return &storage.UnavailableError{
				Err: fmt.Errorf("storage %s of %q failed after %d attempts: %w", op, key, n, err),
			}
		}

		delay := d.backoff(n)
		telemetry.Logger(ctx).WarnContext(ctx, "storage call failed, retrying",
			"driver", d.next.Name(), "operation", op, "key", key,
			"attempt", n, "max_attempts", d.opts.MaxAttempts, "delay", delay, "error", err)
		if err := d.opts.Sleep(ctx, delay); err != nil {
			return stopped(ctx, op, key, last)
		}
		if d.opts.OnRetry != nil {
			d.opts.OnRetry(op)
		}
	}
}

// stopped returns the error of a call whose context ended between
// attempts. It wraps the context's cause and the last failure, if any.
func stopped(ctx context.Context, op, key string, last error) error {
	if last == nil {
		return fmt.Errorf("storage %s of %q: %w", op, key, context.Cause(ctx))
	}
	return fmt.Errorf("storage %s of %q stopped retrying: %w; last error: %w", op, key, context.Cause(ctx), last)
}

// rejected returns the error of a call that the open breaker did not let
// through, with the wait until it lets a probe through.
func rejected(op, key string, wait time.Duration, last error) error {
	err := fmt.Errorf("storage %s of %q: %w", op, key, ErrBreakerOpen)
	if last != nil {
		err = fmt.Errorf("storage %s of %q: %w; last error: %w", op, key, ErrBreakerOpen, last)
	}
	return &storage.UnavailableError{RetryAfter: wait, Err: err}
}

// backoff returns the wait before retry n (1 for the first retry): a
// random duration up to BaseDelay doubled n-1 times, capped at MaxDelay.
func (d *Driver) backoff(n int) time.Duration {
	ceiling := d.opts.BaseDelay
	for i := 1; i < n && ceiling < d.opts.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, d.opts.MaxDelay)
	return d.opts.Jitter(ceiling)
}

// isTransient reports whether err is a failure that a later attempt may
// not have. Nothing is transient once ctx is done, because no attempt
// follows.
func isTransient(ctx context.Context, err error) bool {
	return ctx.Err() == nil && transientError(err)
}

// transientError reports whether err is a kind of failure that a later
// attempt may not have: a refused, reset or timed-out connection or a
// backend that said it is unavailable. A cancelled call is not transient.
func transientError(err error) bool {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrInvalidKey), errors.Is(err, storage.ErrInvalidOffset):
		return false
	case errors.Is(err, storage.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// resultOf classifies the outcome of one attempt for the breaker.
func resultOf(ctx context.Context, err error, transient bool) result {
	switch {
	case transient:
		return failure
	case err != nil && ctx.Err() != nil:
		return unknown // the caller left, maybe before the backend responded
	}
	return success
}
