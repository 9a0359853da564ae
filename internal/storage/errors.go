package storage

import (
	"errors"
	"fmt"
	"time"
)

// NewKind returns a new sentinel error with message that is also a case of
// parent, so errors.Is(k, parent) is true. Drivers use it for their own
// kinds of ErrUnavailable, such as a store's throttling response.
func NewKind(message string, parent error) error {
	return &kindError{message: message, kind: parent}
}

// kindError is a sentinel error that unwraps to the broader kind it is a
// case of.
type kindError struct {
	message string
	kind    error
}

func (e *kindError) Error() string { return e.message }
func (e *kindError) Unwrap() error { return e.kind }

// UnavailableError is an ErrUnavailable failure that carries how long the
// caller should wait before trying again. errors.Is(err, ErrUnavailable)
// is true for it whatever Err is.
type UnavailableError struct {
	// RetryAfter is the wait after which a new call may succeed, such as
	// the rest of a circuit breaker's cooldown. Zero means unknown.
	RetryAfter time.Duration
	// Err is the failure: the backend's last error, or the reason no call
	// was made.
	Err error
}

func (e *UnavailableError) Error() string {
	cause := ErrUnavailable
	if e.Err != nil {
		cause = e.Err
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%v; retry after %s", cause, e.RetryAfter)
	}
	return cause.Error()
}

// Unwrap returns the failure, so errors.Is finds the backend's error kinds
// (ErrThrottled, a driver's own sentinels) through it.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// defaultRetryAfter is the wait suggested for an ErrUnavailable failure
// that carries no hint.
const defaultRetryAfter = time.Second

// RetryAfter returns how long a caller should wait before retrying after
// err, and false when err is not an ErrUnavailable failure. The wait is the
// hint of an *UnavailableError in err, or one second without one. It is
// rounded up to whole seconds, and at least one second, because HTTP's
// Retry-After header counts whole seconds.
func RetryAfter(err error) (time.Duration, bool) {
	if !errors.Is(err, ErrUnavailable) {
		return 0, false
	}
	wait := defaultRetryAfter
	var unavailable *UnavailableError
	if errors.As(err, &unavailable) && unavailable.RetryAfter > 0 {
		wait = unavailable.RetryAfter
	}
	return (wait + time.Second - 1).Truncate(time.Second), true
}
