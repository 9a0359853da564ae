package storage

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestErrThrottledIsUnavailable(t *testing.T) {
	if !errors.Is(ErrThrottled, ErrUnavailable) {
		t.Errorf("ErrThrottled does not wrap ErrUnavailable")
	}
	if errors.Is(ErrUnavailable, ErrThrottled) {
		t.Errorf("ErrUnavailable wraps ErrThrottled")
	}
	kind := NewKind("store said slow down", ErrThrottled)
	if !errors.Is(kind, ErrThrottled) || !errors.Is(kind, ErrUnavailable) {
		t.Errorf("NewKind(..., ErrThrottled) is not a case of ErrThrottled and ErrUnavailable")
	}
	if got := kind.Error(); got != "store said slow down" {
		t.Errorf("Error() = %q, want the kind's own message", got)
	}
}

func TestUnavailableError(t *testing.T) {
	cause := fmt.Errorf("stat: %w", ErrThrottled)
	err := error(&UnavailableError{RetryAfter: 3 * time.Second, Err: cause})
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("errors.Is(%v, ErrUnavailable) = false", err)
	}
	if !errors.Is(err, ErrThrottled) {
		t.Errorf("errors.Is(%v, ErrThrottled) = false, want the cause's kind", err)
	}
	if got, want := err.Error(), "stat: storage backend throttled the request; retry after 3s"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	plain := &UnavailableError{Err: errors.New("store down")}
	if !errors.Is(plain, ErrUnavailable) {
		t.Errorf("an UnavailableError whose cause is not ErrUnavailable is not ErrUnavailable")
	}
	if got := plain.Error(); got != "store down" {
		t.Errorf("Error() = %q, want %q", got, "store down")
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want time.Duration
		ok   bool
	}{
		{"not unavailable", fmt.Errorf("stat: %w", ErrNotFound), 0, false},
		{"nil", nil, 0, false},
		{"no hint", fmt.Errorf("stat: %w", ErrUnavailable), time.Second, true},
		{"zero hint", &UnavailableError{Err: ErrUnavailable}, time.Second, true},
		{"whole seconds", &UnavailableError{RetryAfter: 7 * time.Second, Err: ErrUnavailable}, 7 * time.Second, true},
		{"fraction rounds up", &UnavailableError{RetryAfter: 6200 * time.Millisecond, Err: ErrUnavailable}, 7 * time.Second, true},
		{"below a second", &UnavailableError{RetryAfter: time.Millisecond, Err: ErrUnavailable}, time.Second, true},
		{"wrapped", fmt.Errorf("open blob: %w", &UnavailableError{RetryAfter: 2 * time.Second, Err: ErrThrottled}), 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.err)
			if got != tt.want || ok != tt.ok {
				t.Errorf("RetryAfter(%v) = %s, %t; want %s, %t", tt.err, got, ok, tt.want, tt.ok)
			}
		})
	}
}
