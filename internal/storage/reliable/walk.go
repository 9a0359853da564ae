package reliable

import (
	"context"

	"github.com/cofferhq/coffer/internal/storage"
)

// Walk calls fn for every key below prefix, retrying the walk after a
// transient failure. A retry skips the keys up to the last one fn
// received, so fn receives each key once. OperationTimeout bounds the wait for each key,
// not the time fn takes. An error returned by fn stops the walk, is
// returned as the wrapped driver returned it and is never retried.
func (d *Driver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	var (
		last      string // the last key fn received
		delivered bool   // whether fn received any key
		stopped   bool   // whether fn returned an error
		stopErr   error  // the wrapped driver's error after fn stopped the walk
	)
	err := d.retry(ctx, opWalk, prefix, func(ctx context.Context) error {
		attemptCtx, wd := d.watch(ctx)
		defer wd.release()
		err := d.next.Walk(attemptCtx, prefix, func(info storage.Info) error {
			if delivered && info.Key <= last {
				return nil
			}
			if !wd.pause() {
				return errAttemptTimedOut
			}
			fnErr := fn(info)
			wd.resume()
			if fnErr != nil {
				stopped = true
				return fnErr
			}
			last, delivered = info.Key, true
			return nil
		})
		if stopped {
			// The backend responded, and only fn failed.
			stopErr = err
			return nil
		}
		if !wd.stop() && err != nil && ctx.Err() == nil {
			return d.timeoutError(opWalk, prefix)
		}
		return err
	})
	if err != nil {
		return err
	}
	return stopErr
}
