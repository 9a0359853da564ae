package main

import (
	"context"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// runParallel calls task for every index in [0, n) from at most workers
// goroutines and returns the latency of each call, by index. It returns the
// first error a task returns. Once a task fails, the remaining indexes are
// skipped.
func runParallel(ctx context.Context, workers, n int, task func(ctx context.Context, i int) error) ([]time.Duration, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	latencies := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				start := time.Now()
				if err := task(ctx, i); err != nil {
					cancel(err)
					return
				}
				latencies[i] = time.Since(start)
			}
		})
	}
	wg.Wait()
	return latencies, context.Cause(ctx)
}

// percentile returns the p-th percentile (0 < p ≤ 100) of latencies by the
// nearest-rank method: the smallest value that at least p percent of the
// values do not exceed. It sorts latencies in place and returns 0 for an
// empty slice.
func percentile(latencies []time.Duration, p float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	slices.Sort(latencies)
	// Multiplying before dividing keeps p*n/100 exact for whole p and n.
	rank := int(math.Ceil(p * float64(len(latencies)) / 100))
	return latencies[min(max(rank, 1), len(latencies))-1]
}

// withLatencies sets the p50 and p99 fields of r from latencies.
func withLatencies(r result, latencies []time.Duration) result {
	r.P50Seconds = percentile(latencies, 50).Seconds()
	r.P99Seconds = percentile(latencies, 99).Seconds()
	return r
}

// progressInterval is how often a progress logs.
const progressInterval = 30 * time.Second

// progress logs how many of a long series of requests are done, every
// progressInterval, so a slow fill shows it is still moving.
type progress struct {
	done  atomic.Int64
	stopc chan struct{}
	wg    sync.WaitGroup
}

// newProgress starts logging the progress of total requests for name.
func newProgress(name string, total int) *progress {
	p := &progress{stopc: make(chan struct{})}
	start := time.Now()
	p.wg.Go(func() {
		ticker := time.NewTicker(progressInterval)
		defer ticker.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case <-ticker.C:
				slog.Info("progress", "name", name, "done", p.done.Load(), "total", total,
					"seconds", int(time.Since(start).Seconds()))
			}
		}
	})
	return p
}

// add counts one finished request.
func (p *progress) add() {
	p.done.Add(1)
}

// stop ends the logging.
func (p *progress) stop() {
	close(p.stopc)
	p.wg.Wait()
}
