package oci_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

// outageDriver is a memory driver that fails every call with err while
// err is set, as a backend that is down.
type outageDriver struct {
	storage.Driver
	mu  sync.Mutex
	err error
}

func (o *outageDriver) setDown(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.err = err
}

func (o *outageDriver) down() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *outageDriver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := o.down(); err != nil {
		return nil, err
	}
	return o.Driver.Reader(ctx, key, offset)
}

func (o *outageDriver) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := o.down(); err != nil {
		return storage.Info{}, err
	}
	return o.Driver.Stat(ctx, key)
}

func (o *outageDriver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	if err := o.down(); err != nil {
		return nil, err
	}
	return o.Driver.Writer(ctx, key, offset)
}

func (o *outageDriver) Move(ctx context.Context, src, dst string) error {
	if err := o.down(); err != nil {
		return err
	}
	return o.Driver.Move(ctx, src, dst)
}

func (o *outageDriver) Delete(ctx context.Context, key string) error {
	if err := o.down(); err != nil {
		return err
	}
	return o.Driver.Delete(ctx, key)
}

func (o *outageDriver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	if err := o.down(); err != nil {
		return err
	}
	return o.Driver.Walk(ctx, prefix, fn)
}

// backendDetail is part of every outage error; no response may show it.
const backendDetail = "store.internal:9000 answered 503"

// newOutageServer is newTestServer over an outage driver wrapped by
// reliable.Wrap with opts, whose sleeps return at once and whose clock
// stands still.
func newOutageServer(t *testing.T, opts reliable.Options) (*testServer, *outageDriver) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })

	mem := memory.New()
	backend := &outageDriver{Driver: mem}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	opts.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	opts.Now = func() time.Time { return now }
	blobs := blob.New(reliable.Wrap(backend, opts), store)
	reg := registry.New(store, blobs, testMaxManifestBytes)
	api := newProtectedAPI(t, reg)
	srv := httptest.NewServer(middleware.Logging(slog.New(slog.DiscardHandler), middleware.Recover(api)))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, addr: srv.Listener.Addr().String(), driver: mem, blobs: blobs}, backend
}

func TestBackendOutage(t *testing.T) {
	t.Parallel()
	data := []byte("layer content")
	d := sha256Digest(data)
	other := []byte("another layer")
	unavailable := fmt.Errorf("%s: %w", backendDetail, storage.ErrUnavailable)
	throttled := fmt.Errorf("%s: %w", backendDetail, storage.ErrThrottled)

	tests := []struct {
		name    string
		opts    reliable.Options
		failure error
		status  int
		code    string
		retry   string
		// recovered is the status of a GET once the backend is back: the
		// open breaker keeps failing calls until its cooldown has passed,
		// and the test clock is fixed.
		recovered int
	}{
		{"breaker opens", reliable.Options{MaxAttempts: 2, BreakerThreshold: 2, BreakerCooldown: 30 * time.Second},
			unavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "30", http.StatusServiceUnavailable},
		{"retries exhausted", reliable.Options{MaxAttempts: 2, BreakerThreshold: 100},
			unavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "1", http.StatusOK},
		{"throttled", reliable.Options{MaxAttempts: 2, BreakerThreshold: 100},
			throttled, http.StatusTooManyRequests, "TOOMANYREQUESTS", "1", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, backend := newOutageServer(t, tt.opts)
			s.pushBlob(t, "app", data)
			backend.setDown(tt.failure)

			s.run(t, []exchange{
				{name: "get", method: http.MethodGet, path: "/v2/app/blobs/" + d,
					status: tt.status, code: tt.code, want: map[string]string{"Retry-After": tt.retry, "Docker-Content-Digest": ""}},
				{name: "push", method: http.MethodPost, path: "/v2/app/blobs/uploads/?digest=" + sha256Digest(other), body: other,
					status: tt.status, code: tt.code, want: map[string]string{"Retry-After": tt.retry}},
			})
			resp := s.do(t, http.MethodGet, "/v2/app/blobs/"+d, nil, nil)
			if strings.Contains(string(resp.body), backendDetail) {
				t.Errorf("response %q shows the backend's error", resp.body)
			}

			backend.setDown(nil)
			resp = s.do(t, http.MethodGet, "/v2/app/blobs/"+d, nil, nil)
			checkStatus(t, "get after the outage", resp, tt.recovered)
		})
	}
}

func TestBackendOutageHEADNeedsNoBackend(t *testing.T) {
	t.Parallel()
	s, backend := newOutageServer(t, reliable.Options{MaxAttempts: 1, BreakerThreshold: 1})
	d := s.pushBlob(t, "app", []byte("layer content"))
	backend.setDown(errors.Join(errors.New(backendDetail), storage.ErrUnavailable))

	// HEAD reads only the metadata store, which is up.
	s.run(t, []exchange{
		{name: "head", method: http.MethodHead, path: "/v2/app/blobs/" + d, status: http.StatusOK,
			want: map[string]string{"Retry-After": "", "Content-Length": "13"}},
	})
}
