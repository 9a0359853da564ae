package s3_test

import (
	"context"
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
	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
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
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })

	mem := memory.New()
	backend := &outageDriver{Driver: mem}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	opts.Sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	opts.Now = func() time.Time { return now }
	store := objects.New(meta, blob.New(reliable.Wrap(backend, opts), meta), testRegion)
	handler := s3.New(store, allowAll{}, s3.Options{Region: testRegion, Authorizer: identity.NewAuthorizer()})
	srv := httptest.NewServer(middleware.Logging(slog.New(slog.DiscardHandler), middleware.Recover(handler)))
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, driver: mem, store: store}, backend
}

func TestBackendOutage(t *testing.T) {
	t.Parallel()
	unavailable := fmt.Errorf("%s: %w", backendDetail, storage.ErrUnavailable)
	throttled := fmt.Errorf("%s: %w", backendDetail, storage.ErrThrottled)

	tests := []struct {
		name    string
		opts    reliable.Options
		failure error
		code    string
		retry   string
		// recovered is the status of a GET once the backend is back: the
		// open breaker keeps failing calls until its cooldown has passed,
		// and the test clock is fixed.
		recovered int
	}{
		{"breaker opens", reliable.Options{MaxAttempts: 2, BreakerThreshold: 2, BreakerCooldown: 30 * time.Second},
			unavailable, "ServiceUnavailable", "30", http.StatusServiceUnavailable},
		{"retries exhausted", reliable.Options{MaxAttempts: 2, BreakerThreshold: 100},
			unavailable, "ServiceUnavailable", "1", http.StatusOK},
		{"throttled", reliable.Options{MaxAttempts: 2, BreakerThreshold: 100},
			throttled, "SlowDown", "1", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, backend := newOutageServer(t, tt.opts)
			s.createBucket(t, "outage")
			s.putObject(t, "outage", "k", []byte("object content"))
			backend.setDown(tt.failure)

			get := s.do(t, http.MethodGet, "/outage/k", nil)
			expectError(t, get, http.StatusServiceUnavailable, tt.code, "/outage/k")
			if got := get.header.Get("Retry-After"); got != tt.retry {
				t.Errorf("GET Retry-After = %q, want %q", got, tt.retry)
			}
			for _, name := range []string{"ETag", "Last-Modified", "Accept-Ranges"} {
				if got := get.header.Get(name); got != "" {
					t.Errorf("GET error has header %s = %q, want none", name, got)
				}
			}
			if strings.Contains(string(get.body), backendDetail) {
				t.Errorf("response %q shows the backend's error", get.body)
			}

			put := s.do(t, http.MethodPut, "/outage/other", []byte("other content"))
			expectError(t, put, http.StatusServiceUnavailable, tt.code, "/outage/other")
			if got := put.header.Get("Retry-After"); got != tt.retry {
				t.Errorf("PUT Retry-After = %q, want %q", got, tt.retry)
			}

			backend.setDown(nil)
			if got := s.do(t, http.MethodGet, "/outage/k", nil); got.status != tt.recovered {
				t.Errorf("GET after the outage = %d, want %d; body: %s", got.status, tt.recovered, got.body)
			}
		})
	}
}
