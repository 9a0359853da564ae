package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// newJobLocks returns job locks on url that are closed when the test ends.
func newJobLocks(t *testing.T, url, owner string) *JobLocks {
	t.Helper()
	locks, err := NewJobLocks(url, owner)
	if err != nil {
		t.Fatalf("NewJobLocks: %v", err)
	}
	t.Cleanup(func() { _ = locks.Close(t.Context()) })
	return locks
}

// tryLock calls TryLock and fails the test on an error.
func tryLock(t *testing.T, locks *JobLocks, job string) bool {
	t.Helper()
	got, err := locks.TryLock(t.Context(), job)
	if err != nil {
		t.Fatalf("TryLock(%s): %v", job, err)
	}
	return got
}

func TestJobLocksExcludeOtherHolders(t *testing.T) {
	url := newSchema(t)
	first := newJobLocks(t, url, "coffer-test-first")
	second := newJobLocks(t, url, "coffer-test-second")

	if !tryLock(t, first, "gc") {
		t.Fatal("first TryLock(gc) = false on a free lock, want true")
	}
	if !tryLock(t, first, "gc") {
		t.Error("first TryLock(gc) again = false, want true for a lock it holds")
	}
	if tryLock(t, second, "gc") {
		t.Error("second TryLock(gc) = true while first holds it, want false")
	}
	if !tryLock(t, second, "scrub") {
		t.Error("second TryLock(scrub) = false, want true: locks of other jobs are independent")
	}

	held, err := first.Held(t.Context(), "gc")
	if err != nil || !held {
		t.Errorf("first Held(gc) = %v, %v; want true, nil", held, err)
	}
	held, err = second.Held(t.Context(), "gc")
	if err != nil || held {
		t.Errorf("second Held(gc) = %v, %v; want false, nil", held, err)
	}

	var owner string
	const query = `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int4::oid
		AND l.objid = hashtext(current_schema() || '/gc')::oid AND l.objsubid = 2`
	observer, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer observer.Close(t.Context())
	if err := observer.QueryRow(t.Context(), query, int32(jobLockClass)).Scan(&owner); err != nil {
		t.Fatalf("read the owner of the gc lock: %v", err)
	}
	if owner != "coffer-test-first" {
		t.Errorf("gc lock owner = %q, want coffer-test-first", owner)
	}
}

func TestJobLocksPassOnWhenReleased(t *testing.T) {
	url := newSchema(t)
	first := newJobLocks(t, url, "coffer-test-first")
	second := newJobLocks(t, url, "coffer-test-second")

	if !tryLock(t, first, "gc") || !tryLock(t, first, "scrub") {
		t.Fatal("first could not take free locks")
	}
	if err := first.Unlock(t.Context(), "gc"); err != nil {
		t.Fatalf("Unlock(gc): %v", err)
	}
	if !tryLock(t, second, "gc") {
		t.Error("second TryLock(gc) = false after first unlocked it, want true")
	}

	// Closing the connection, as a crash does, releases every lock on it.
	if err := first.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !tryLock(t, second, "scrub") {
		t.Error("second TryLock(scrub) = false after first closed its connection, want true")
	}
	held, err := first.Held(t.Context(), "scrub")
	if err != nil || held {
		t.Errorf("first Held(scrub) after Close = %v, %v; want false, nil", held, err)
	}
}

func TestJobLocksAreSeparatePerSchema(t *testing.T) {
	one := newJobLocks(t, newSchema(t), "coffer-test-one")
	other := newJobLocks(t, newSchema(t), "coffer-test-other")

	if !tryLock(t, one, "gc") {
		t.Fatal("TryLock(gc) in the first schema = false, want true")
	}
	if !tryLock(t, other, "gc") {
		t.Error("TryLock(gc) in another schema = false, want true: deployments in other schemas do not exclude each other")
	}
}
