package postgres

import (
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// TestRestartGracePeriodSkipsYoungTimestamp checks that restartGracePeriod
// writes only when zero_since is at least metadata.GraceRestartInterval old,
// so that concurrent lookups that all saw an old value restart it once.
func TestRestartGracePeriodSkipsYoungTimestamp(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	b := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte("unreferenced")), Size: 12}
	if err := s.LinkBlob(ctx, "app", b); err != nil {
		t.Fatalf("LinkBlob: %v", err)
	}
	setZeroSince := func(value int64) {
		t.Helper()
		if _, err := s.pool.Exec(ctx, `UPDATE blobs SET zero_since = $2 WHERE digest = $1`, string(b.Digest), value); err != nil {
			t.Fatalf("set zero_since: %v", err)
		}
	}
	zeroSince := func() int64 {
		t.Helper()
		var value int64
		if err := s.pool.QueryRow(ctx, `SELECT zero_since FROM blobs WHERE digest = $1`, string(b.Digest)).Scan(&value); err != nil {
			t.Fatalf("read zero_since: %v", err)
		}
		return value
	}

	// A value an hour ahead is younger than the interval however long the
	// test takes, as when another lookup has just restarted it.
	young := time.Now().Add(time.Hour).UnixNano()
	setZeroSince(young)
	if err := s.restartGracePeriod(ctx, b.Digest); err != nil {
		t.Fatalf("restartGracePeriod: %v", err)
	}
	if got := zeroSince(); got != young {
		t.Errorf("restartGracePeriod changed a young zero_since from %d to %d", young, got)
	}

	setZeroSince(1)
	before := time.Now().UnixNano()
	if err := s.restartGracePeriod(ctx, b.Digest); err != nil {
		t.Fatalf("restartGracePeriod: %v", err)
	}
	if got := zeroSince(); got < before {
		t.Errorf("restartGracePeriod left an old zero_since at %d, want at least %d", got, before)
	}
}
