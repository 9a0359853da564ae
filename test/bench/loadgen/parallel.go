package main

import (
	"context"
	"sync"
	"sync/atomic"
)

// runParallel calls task for every index in [0, n) from at most workers
// goroutines. It returns the first error a task returns; once a task fails,
// the remaining indexes are skipped.
func runParallel(ctx context.Context, workers, n int, task func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := task(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
