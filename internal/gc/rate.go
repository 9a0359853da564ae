package gc

import (
	"context"
	"time"
)

// rateLimiter paces reads to an average number of bytes per second since
// its start. It lets a short burst through after an idle period, which is
// harmless for a scrub that reads without pause.
type rateLimiter struct {
	bytesPerSecond int64 // 0 or less means no limit
	now            func() time.Time
	sleep          func(ctx context.Context, d time.Duration) error
	start          time.Time
	consumed       int64
}

// wait blocks until n more bytes fit the rate, or ctx ends.
func (l *rateLimiter) wait(ctx context.Context, n int) error {
	if l.bytesPerSecond <= 0 {
		return nil
	}
	if l.start.IsZero() {
		l.start = l.now()
	}
	l.consumed += int64(n)
	due := l.start.Add(time.Duration(float64(l.consumed) / float64(l.bytesPerSecond) * float64(time.Second)))
	if d := due.Sub(l.now()); d > 0 {
		return l.sleep(ctx, d)
	}
	return nil
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}
