package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

// backendDetail is part of every read error; no response may show it.
const backendDetail = "store.internal:9000 answered 503"

// failingReads is a memory driver whose reads fail with err.
type failingReads struct {
	storage.Driver
	err error
}

func (f failingReads) Reader(context.Context, string, int64) (io.ReadCloser, error) {
	return nil, f.err
}

// newFailingReadServer is newAdminServer over a driver whose reads fail
// with readErr, wrapped by reliable.Wrap without retries. The breaker
// opens at the first failure for 20s, on a fixed clock.
func newFailingReadServer(t *testing.T, readErr error) *adminServer {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	driver := reliable.Wrap(failingReads{Driver: memory.New(), err: readErr}, reliable.Options{
		MaxAttempts: 1, BreakerThreshold: 1, BreakerCooldown: 20 * time.Second,
		Now: func() time.Time { return now },
	})
	blobs := blob.New(driver, meta)
	store := objects.New(meta, blobs, "us-east-1")
	handler := admin.New(registry.New(meta, blobs, 4<<20), store, func() admin.SystemInfo { return admin.SystemInfo{} })
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &adminServer{url: srv.URL, store: store}
}

func TestAdminGetObjectBackendOutage(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"unavailable", fmt.Errorf("%s: %w", backendDetail, storage.ErrUnavailable), http.StatusServiceUnavailable},
		{"throttled", fmt.Errorf("%s: %w", backendDetail, storage.ErrThrottled), http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFailingReadServer(t, tt.err)
			s.createBucket(t, "objs")
			s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/objs/objects/k", []byte("content"))
			path := "/api/v1/buckets/objs/objects/k"

			resp := s.do(t, http.MethodGet, path, nil)
			problem := expectProblem(t, resp, tt.status, path)
			if got := resp.header.Get("Retry-After"); got != "20" {
				t.Errorf("Retry-After = %q, want 20", got)
			}
			if strings.Contains(problem.Detail, backendDetail) {
				t.Errorf("detail %q shows the backend's error", problem.Detail)
			}
		})
	}
}
