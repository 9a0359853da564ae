package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/metadata/postgres"
)

// runTimeout bounds each wait for a job run; the runners check their locks
// every second, so it only turns a hang into a failure.
const runTimeout = 30 * time.Second

// startRunner runs job under locks until the returned function is called,
// and returns a channel that receives a value for each run.
func startRunner(t *testing.T, locks jobLocks, name string) (<-chan struct{}, func()) {
	t.Helper()
	runs := make(chan struct{}, 16)
	runner := &jobRunner{locks: locks, check: time.Second, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		runner.loop(ctx, backgroundJob{name: name, interval: time.Hour, run: func(context.Context) { runs <- struct{}{} }})
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return runs, stop
}

// waitRun waits for one run on runs.
func waitRun(t *testing.T, runs <-chan struct{}, who string) {
	t.Helper()
	select {
	case <-runs:
	case <-time.After(runTimeout):
		t.Fatalf("%s did not run the job within %v", who, runTimeout)
	}
}

func TestJobRunnerRetakesLostLock(t *testing.T) {
	locks := &localJobLocks{held: map[string]bool{}}
	runs, _ := startRunner(t, locks, "gc")
	waitRun(t, runs, "the runner")

	// A lock lost behind the runner's back, as a broken database connection
	// loses it, ends its lead at the next check. It takes the lock again
	// and runs the job at once.
	if err := locks.Unlock(t.Context(), "gc"); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	waitRun(t, runs, "the runner after losing its lock")
}

func TestJobRunnerMovesToOtherReplica(t *testing.T) {
	dsn := testPostgresURL()
	job := uniqueJob(t)
	first, err := postgres.NewAdvisoryLocks(dsn, "coffer-test-first")
	if err != nil {
		t.Fatalf("NewAdvisoryLocks: %v", err)
	}
	second, err := postgres.NewAdvisoryLocks(dsn, "coffer-test-second")
	if err != nil {
		t.Fatalf("NewAdvisoryLocks: %v", err)
	}
	t.Cleanup(func() {
		_ = first.Close(context.Background())
		_ = second.Close(context.Background())
	})

	firstRuns, stopFirst := startRunner(t, first, job)
	waitRun(t, firstRuns, "the first replica")
	rejected := &rejectionSignal{jobLocks: second, rejected: make(chan struct{}, 16)}
	secondRuns, _ := startRunner(t, rejected, job)
	select {
	case <-rejected.rejected:
	case <-time.After(runTimeout):
		t.Fatalf("the second replica did not try the lock within %v", runTimeout)
	}
	if n := len(secondRuns); n != 0 {
		t.Fatalf("the second replica ran the job %d times while the first held the lock", n)
	}

	// Stopping the first replica releases its lock, and the second runs the
	// job.
	stopFirst()
	waitRun(t, secondRuns, "the second replica")
}

// rejectionSignal passes every call to jobLocks and signals each TryLock that
// did not get the lock.
type rejectionSignal struct {
	jobLocks
	rejected chan struct{}
}

func (r *rejectionSignal) TryLock(ctx context.Context, job string) (bool, error) {
	got, err := r.jobLocks.TryLock(ctx, job)
	if !got {
		select {
		case r.rejected <- struct{}{}:
		default:
		}
	}
	return got, err
}

// testPostgresURL returns the URL of the test database: COFFER_TEST_POSTGRES_URL or a
// local PostgreSQL with trust authentication and a database named test.
func testPostgresURL() string {
	if dsn := os.Getenv("COFFER_TEST_POSTGRES_URL"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// uniqueJob returns a job name no other test run locks, so that runs on the
// same database do not exclude each other.
func uniqueJob(t *testing.T) string {
	t.Helper()
	random := make([]byte, 8)
	if _, err := rand.Read(random); err != nil {
		t.Fatalf("read random bytes: %v", err)
	}
	return "test-job-" + hex.EncodeToString(random)
}
