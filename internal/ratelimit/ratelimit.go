// Package ratelimit counts events per key, such as failed logins per
// client address, with one token bucket per key.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter allows up to Limit events per key within Window: each key's
// bucket holds Limit tokens and refills one token every Window/Limit. The
// clock is injected, so tests control time.
type Limiter struct {
	limit    float64
	interval time.Duration // time to refill one token
	maxKeys  int
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens  float64
	updated time.Time
}

// New returns a Limiter of limit events per window and key, which tracks
// at most maxKeys keys. now is the clock, time.Now if nil. A limit below 1
// returns nil; a nil Limiter allows everything.
func New(limit int, window time.Duration, maxKeys int, now func() time.Time) *Limiter {
	if limit < 1 || window <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		limit:    float64(limit),
		interval: window / time.Duration(limit),
		maxKeys:  maxKeys,
		now:      now,
		buckets:  map[string]*bucket{},
	}
}

// Wait returns how long key must wait for its next event, 0 when it may
// go ahead now. It takes no token.
func (l *Limiter) Wait(key string) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return 0
	}
	return l.wait(l.refill(b))
}

// Take spends one token of key, also when the bucket is empty, so that
// events past the limit push the next allowed event further out, up to
// one full window.
func (l *Limiter) Take(key string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		l.makeRoom()
		b = &bucket{tokens: l.limit, updated: l.now()}
		l.buckets[key] = b
	}
	l.refill(b)
	b.tokens = max(b.tokens-1, 0)
}

// refill adds the tokens earned since the last update and returns the
// bucket's tokens.
func (l *Limiter) refill(b *bucket) float64 {
	now := l.now()
	if elapsed := now.Sub(b.updated); elapsed > 0 {
		b.tokens = min(l.limit, b.tokens+float64(elapsed)/float64(l.interval))
	}
	b.updated = now
	return b.tokens
}

// wait returns the time until a bucket with tokens holds one whole token.
func (l *Limiter) wait(tokens float64) time.Duration {
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(l.interval))
}

// makeRoom drops full buckets, which hold no information, when the map
// has reached maxKeys; if all are in use, it drops arbitrary ones. So the
// memory stays bounded when many addresses fail, at the price of
// forgetting some of them.
func (l *Limiter) makeRoom() {
	if l.maxKeys <= 0 || len(l.buckets) < l.maxKeys {
		return
	}
	for key, b := range l.buckets {
		if l.refill(b) >= l.limit {
			delete(l.buckets, key)
		}
	}
	for key := range l.buckets {
		if len(l.buckets) < l.maxKeys {
			break
		}
		delete(l.buckets, key)
	}
}

// Len returns the number of keys tracked.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
