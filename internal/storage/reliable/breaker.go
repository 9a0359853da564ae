package reliable

import (
	"context"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/telemetry"
)

// State is a circuit breaker state. The values order the states from
// healthy to failing, so a metrics gauge can report them as numbers.
type State int

// Circuit breaker states.
const (
	// Closed lets every call through and counts consecutive transient
	// failures.
	Closed State = 0
	// HalfOpen lets one probe call through and rejects the others until the
	// probe's result closes or opens the breaker.
	HalfOpen State = 1
	// Open rejects every call until the cooldown has passed.
	Open State = 2
)

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	}
	return "unknown"
}

// result is the outcome of one backend call, as the breaker counts it.
type result int

const (
	success result = iota // the backend responded, with or without an error
	failure               // a transient failure
	unknown               // the caller left before the backend responded
)

// breaker is the circuit breaker of one Driver. It is safe for concurrent
// use.
type breaker struct {
	driver    string
	threshold int
	cooldown  time.Duration
	now       func() time.Time

	mu       sync.Mutex
	state    State
	failures int       // consecutive transient failures while closed
	openedAt time.Time // when the breaker last opened
	probeAt  time.Time // start of the probe in flight while half-open; zero when none
}

func newBreaker(driver string, threshold int, cooldown time.Duration, now func() time.Time) *breaker {
	return &breaker{driver: driver, threshold: threshold, cooldown: cooldown, now: now}
}

// current returns the state.
func (b *breaker) current() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// remaining returns the rest of the cooldown while the breaker is open,
// and zero otherwise.
func (b *breaker) remaining() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != Open {
		return 0
	}
	return max(b.openedAt.Add(b.cooldown).Sub(b.now()), 0)
}

// admit decides whether a call may reach the backend, and whether it is
// the half-open probe. A rejected call gets the wait until the breaker
// lets a probe through, or zero while a probe is in flight. A probe in
// flight for longer than the cooldown counts as lost, so a new one may
// start: a caller that never reports would otherwise keep the breaker
// half-open for good.
func (b *breaker) admit(ctx context.Context) (probe bool, wait time.Duration, admitted bool) {
	b.mu.Lock()
	now := b.now()
	from := b.state
	switch b.state {
	case Closed:
		admitted = true
	case Open:
		if wait = b.openedAt.Add(b.cooldown).Sub(now); wait <= 0 {
			b.state, b.probeAt = HalfOpen, now
			probe, admitted, wait = true, true, 0
		}
	case HalfOpen:
		if b.probeAt.IsZero() || now.Sub(b.probeAt) >= b.cooldown {
			b.probeAt = now
			probe, admitted = true, true
		}
	}
	to := b.state
	b.mu.Unlock()

	b.logChange(ctx, from, to)
	return probe, wait, admitted
}

// settle records the result of a call that admit let through.
func (b *breaker) settle(ctx context.Context, probe bool, r result) {
	b.mu.Lock()
	from := b.state
	switch b.state {
	case Closed:
		b.settleClosed(r)
	case HalfOpen:
		if probe {
			b.settleProbe(r)
		}
	case Open:
		// A call admitted before the breaker opened; the cooldown decides.
	}
	to := b.state
	b.mu.Unlock()

	b.logChange(ctx, from, to)
}

func (b *breaker) settleClosed(r result) {
	switch r {
	case success:
		b.failures = 0
	case failure:
		b.failures++
		if b.failures >= b.threshold {
			b.open()
		}
	}
}

func (b *breaker) settleProbe(r result) {
	switch r {
	case success:
		b.state, b.failures, b.probeAt = Closed, 0, time.Time{}
	case failure:
		b.open()
	case unknown:
		b.probeAt = time.Time{} // the next call probes
	}
}

func (b *breaker) open() {
	b.state, b.openedAt, b.probeAt = Open, b.now(), time.Time{}
}

// logChange logs a state change with the request's logger.
func (b *breaker) logChange(ctx context.Context, from, to State) {
	if from == to {
		return
	}
	telemetry.Logger(ctx).WarnContext(ctx, "storage circuit breaker changed state",
		"driver", b.driver, "from", from.String(), "to", to.String(), "cooldown", b.cooldown)
}
