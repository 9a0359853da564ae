package client

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// RetryOptions sets how the client retries a failed request. Requests
// that may be repeated safely (GET, HEAD, PUT, DELETE, and chunks of a
// resumable upload, which the server accepts only at its offset) are
// retried after a network error, 429, 502, 503 or 504. Other requests are
// retried only after 429 and 503, which mean the server did not act on them.
type RetryOptions struct {
	// MaxAttempts is the number of attempts including the first. Zero means
	// 4; 1 disables retries.
	MaxAttempts int
	// MinDelay is the wait before the second attempt. Each later wait
	// doubles, and every wait is drawn at random from half of it to all of
	// it (jitter), so that clients do not retry in step. Zero means 200 ms.
	MinDelay time.Duration
	// MaxDelay caps the wait between attempts, including a longer
	// Retry-After the server sends. Zero means 30 s.
	MaxDelay time.Duration
}

// Defaults of [RetryOptions].
const (
	DefaultMaxAttempts = 4
	DefaultMinDelay    = 200 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
)

func (o RetryOptions) withDefaults() RetryOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.MinDelay <= 0 {
		o.MinDelay = DefaultMinDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	return o
}

// delay returns the wait after the given failed attempt (1 for the first).
// A Retry-After from the server replaces the computed backoff, capped at
// MaxDelay.
func (o RetryOptions) delay(attempt int, serverWait time.Duration) time.Duration {
	if serverWait > 0 {
		return min(serverWait, o.MaxDelay)
	}
	backoff := o.MinDelay << min(attempt-1, 20)
	if backoff <= 0 || backoff > o.MaxDelay {
		backoff = o.MaxDelay
	}
	half := backoff / 2
	return half + rand.N(half+1)
}

// shouldRetry reports whether req may be sent again after err.
func shouldRetry(req request, err error) bool {
	var httpErr *Error
	if errors.As(err, &httpErr) {
		switch httpErr.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			return true
		case http.StatusBadGateway, http.StatusGatewayTimeout:
			return req.retryable
		}
		return false
	}
	var netErr *networkError
	return req.retryable && errors.As(err, &netErr)
}

// isTransient reports whether err counts as a failure of the server for
// the circuit breaker: no response, 429 or 5xx.
func isTransient(err error) bool {
	var httpErr *Error
	if errors.As(err, &httpErr) {
		return httpErr.StatusCode == http.StatusTooManyRequests || httpErr.StatusCode >= 500
	}
	var netErr *networkError
	return errors.As(err, &netErr)
}

// retryAfter returns the wait an error response asked for.
func retryAfter(err error) time.Duration {
	var httpErr *Error
	if errors.As(err, &httpErr) {
		return httpErr.RetryAfter
	}
	return 0
}

// isIdempotent reports whether an HTTP method may be repeated safely.
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// BreakerOptions configures the circuit breaker. After Threshold
// consecutive failures (network errors, 429 or 5xx, each retry counted), the
// breaker opens and requests fail at once with [ErrCircuitOpen] for
// Cooldown. Then one trial request goes through: success closes the breaker,
// failure opens it again.
type BreakerOptions struct {
	// Threshold is the number of consecutive failures that opens the
	// breaker. Zero means 5.
	Threshold int
	// Cooldown is how long the breaker stays open. Zero means 10 s.
	Cooldown time.Duration
	// Now returns the current time. Nil uses time.Now; tests replace it.
	Now func() time.Time
}

func (o BreakerOptions) withDefaults() BreakerOptions {
	if o.Threshold <= 0 {
		o.Threshold = 5
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// breaker is a consecutive-failure circuit breaker. A nil breaker allows
// everything.
type breaker struct {
	opts     BreakerOptions
	mu       sync.Mutex
	failures int
	openedAt time.Time // zero while closed
	trial    bool      // a half-open trial request is in flight
}

func newBreaker(opts BreakerOptions) *breaker { return &breaker{opts: opts} }

func (b *breaker) allow() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openedAt.IsZero() {
		return nil
	}
	if b.opts.Now().Sub(b.openedAt) < b.opts.Cooldown || b.trial {
		return errCircuitOpen
	}
	b.trial = true
	return nil
}

func (b *breaker) record(success bool) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
	if success {
		b.failures, b.openedAt = 0, time.Time{}
		return
	}
	b.failures++
	if b.failures >= b.opts.Threshold || !b.openedAt.IsZero() {
		b.openedAt = b.opts.Now()
	}
}

var errCircuitOpen = &circuitOpenError{}

type circuitOpenError struct{}

func (*circuitOpenError) Error() string {
	return "circuit breaker open: the server failed repeatedly; requests resume after the cooldown"
}

func (*circuitOpenError) Unwrap() []error { return []error{ErrCircuitOpen, ErrUnavailable} }
