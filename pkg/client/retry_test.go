package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/pkg/client"
)

func TestRetriesUnavailable(t *testing.T) {
	ft := &faultTransport{}
	ft.fail = func(req *http.Request, n int) (*http.Response, error) {
		if n <= 2 {
			return statusResponse(http.StatusServiceUnavailable, http.Header{"Retry-After": {"0"}}), nil
		}
		return nil, nil
	}
	c := newClient(t, ft, client.Options{})
	// POST is not idempotent, but 503 means the server did not act on it.
	bucket := "retry-" + strings.ToLower(time.Now().Format("150405.000000"))
	bucket = strings.ReplaceAll(bucket, ".", "-")
	if err := c.CreateBucket(t.Context(), bucket); err != nil {
		t.Fatalf("create bucket through two 503s: %v", err)
	}
	if got := len(ft.requestsMatching(http.MethodPost, "/api/v1/buckets")); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
}

func TestRetriesGiveUp(t *testing.T) {
	ft := &faultTransport{fail: func(req *http.Request, n int) (*http.Response, error) {
		return statusResponse(http.StatusServiceUnavailable, http.Header{"Retry-After": {"0"}}), nil
	}}
	c := newClient(t, ft, client.Options{Retry: client.RetryOptions{MaxAttempts: 3}})
	_, err := c.Buckets(t.Context())
	if !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("buckets through 503s: %v, want ErrUnavailable", err)
	}
	if got := len(ft.requestsMatching(http.MethodGet, "/api/v1/buckets")); got != 3 {
		t.Errorf("%d attempts, want 3", got)
	}
}

func TestNoRetryOfPostAfterNetworkError(t *testing.T) {
	ft := &faultTransport{fail: func(req *http.Request, n int) (*http.Response, error) {
		return nil, errors.New("connection reset")
	}}
	c := newClient(t, ft, client.Options{})
	if err := c.CreateBucket(t.Context(), "never-created"); !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("create bucket through a network error: %v, want ErrUnavailable", err)
	}
	if got := len(ft.requestsMatching(http.MethodPost, "/api/v1/buckets")); got != 1 {
		t.Errorf("%d attempts of a POST after a network error, want 1", got)
	}
}

func TestCircuitBreakerOpens(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	failing := true
	ft := &faultTransport{fail: func(req *http.Request, n int) (*http.Response, error) {
		if failing {
			return nil, errors.New("connection refused")
		}
		return nil, nil
	}}
	c := newClient(t, ft, client.Options{
		Retry:   client.RetryOptions{MaxAttempts: 1},
		Breaker: &client.BreakerOptions{Threshold: 2, Cooldown: time.Minute, Now: func() time.Time { return now }},
	})
	for range 2 {
		if _, err := c.Buckets(t.Context()); errors.Is(err, client.ErrCircuitOpen) {
			t.Fatalf("breaker open before the threshold: %v", err)
		}
	}
	_, err := c.Buckets(t.Context())
	if !errors.Is(err, client.ErrCircuitOpen) || !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("after 2 failures: %v, want ErrCircuitOpen", err)
	}
	if got := len(ft.requestsMatching(http.MethodGet, "/api/v1/buckets")); got != 2 {
		t.Errorf("%d requests sent, want 2: the open breaker sends none", got)
	}

	failing = false
	now = now.Add(time.Minute)
	if _, err := c.Buckets(t.Context()); err != nil {
		t.Errorf("trial request after the cooldown: %v", err)
	}
	if _, err := c.Buckets(t.Context()); err != nil {
		t.Errorf("request after a successful trial: %v", err)
	}
}
