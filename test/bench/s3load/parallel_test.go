package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	latencies := make([]time.Duration, 200)
	for i := range latencies {
		// 200 ms down to 1 ms, so the sort matters.
		latencies[i] = time.Duration(200-i) * time.Millisecond
	}
	cases := []struct {
		p    float64
		want time.Duration
	}{
		{50, 100 * time.Millisecond},
		{99, 198 * time.Millisecond},
		{100, 200 * time.Millisecond},
		{0.1, 1 * time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(latencies, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, expected %v", c.p, got, c.want)
		}
	}
}

func TestPercentileSmallInputs(t *testing.T) {
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of no values = %v, expected 0", got)
	}
	single := []time.Duration{7 * time.Millisecond}
	if got := percentile(single, 99); got != 7*time.Millisecond {
		t.Errorf("percentile of one value = %v, expected 7ms", got)
	}
}

func TestRunParallelEveryIndexOnce(t *testing.T) {
	const n = 1000
	var calls [n]atomic.Int32
	latencies, err := runParallel(context.Background(), 8, n, func(_ context.Context, i int) error {
		calls[i].Add(1)
		return nil
	})
	if err != nil {
		t.Fatalf("runParallel: %v", err)
	}
	if len(latencies) != n {
		t.Errorf("runParallel returned %d latencies, expected %d", len(latencies), n)
	}
	for i := range calls {
		if got := calls[i].Load(); got != 1 {
			t.Fatalf("index %d called %d times, expected once", i, got)
		}
	}
}

func TestRunParallelStopsOnError(t *testing.T) {
	failure := errors.New("task failed")
	var calls atomic.Int32
	_, err := runParallel(context.Background(), 1, 100, func(_ context.Context, i int) error {
		calls.Add(1)
		if i == 10 {
			return failure
		}
		return nil
	})
	if !errors.Is(err, failure) {
		t.Errorf("runParallel error = %v, expected %v", err, failure)
	}
	if got := calls.Load(); got != 11 {
		t.Errorf("one worker made %d calls, expected 11 (stopping at the failure)", got)
	}
}
