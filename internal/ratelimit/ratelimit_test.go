package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

// clock is a manual clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)} }

func TestLimiterAllowsLimitThenWaits(t *testing.T) {
	c := newClock()
	l := New(10, time.Minute, 0, c.now)
	for i := range 10 {
		if w := l.Wait("a"); w != 0 {
			t.Fatalf("event %d waits %s, want 0", i+1, w)
		}
		l.Take("a")
	}
	if w := l.Wait("a"); w != 6*time.Second {
		t.Fatalf("wait after 10 events = %s, want 6s", w)
	}
	if w := l.Wait("b"); w != 0 {
		t.Fatalf("another key waits %s, want 0", w)
	}
	c.t = c.t.Add(6 * time.Second)
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("wait after one refill interval = %s, want 0", w)
	}
}

func TestLimiterTakePastLimitExtendsWait(t *testing.T) {
	c := newClock()
	l := New(2, time.Minute, 0, c.now)
	l.Take("a")
	l.Take("a")
	c.t = c.t.Add(15 * time.Second)
	if w := l.Wait("a"); w != 15*time.Second {
		t.Fatalf("wait = %s, want 15s", w)
	}
	l.Take("a") // a failure while limited still counts
	if w := l.Wait("a"); w != 30*time.Second {
		t.Fatalf("wait after another event = %s, want 30s", w)
	}
}

func TestLimiterNilAllowsEverything(t *testing.T) {
	l := New(0, time.Minute, 0, nil)
	if l != nil {
		t.Fatal("a zero limit returned a limiter")
	}
	l.Take("a")
	if w := l.Wait("a"); w != 0 || l.Len() != 0 {
		t.Fatalf("nil limiter waits %s", w)
	}
}

func TestLimiterBoundsKeys(t *testing.T) {
	c := newClock()
	l := New(5, time.Minute, 100, c.now)
	for i := range 1000 {
		l.Take(fmt.Sprint("key", i))
	}
	if n := l.Len(); n > 100 {
		t.Fatalf("limiter tracks %d keys, want at most 100", n)
	}
	c.t = c.t.Add(time.Hour)
	l.Take("fresh")
	if n := l.Len(); n != 1 {
		t.Fatalf("after every bucket refilled, limiter tracks %d keys, want 1", n)
	}
}
