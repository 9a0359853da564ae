package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// newAdvisoryLocks returns advisory locks on url that are closed when the test ends.
func newAdvisoryLocks(t *testing.T, url, owner string) *AdvisoryLocks {
	t.Helper()
	locks, err := NewAdvisoryLocks(url, owner)
	if err != nil {
		t.Fatalf("NewAdvisoryLocks: %v", err)
	}
	t.Cleanup(func() { _ = locks.Close(t.Context()) })
	return locks
}

// tryLock calls TryLock and fails the test on an error.
func tryLock(t *testing.T, locks *AdvisoryLocks, job string) bool {
	t.Helper()
	got, err := locks.TryLock(t.Context(), job)
	if err != nil {
		t.Fatalf("TryLock(%s): %v", job, err)
	}
	return got
}

func TestJobLocksExcludeOtherHolders(t *testing.T) {
	url := newSchema(t)
	first := newAdvisoryLocks(t, url, "coffer-test-first")
	second := newAdvisoryLocks(t, url, "coffer-test-second")

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
	first := newAdvisoryLocks(t, url, "coffer-test-first")
	second := newAdvisoryLocks(t, url, "coffer-test-second")

	if !tryLock(t, first, "gc") || !tryLock(t, first, "scrub") {
		t.Fatal("first could not take free locks")
	}
	if err := first.Unlock(t.Context(), "gc"); err != nil {
		t.Fatalf("Unlock(gc): %v", err)
	}
	if !tryLock(t, second, "gc") {
		t.Error("second TryLock(gc) = false after first unlocked it, want true")
	}

	// Closing the connection, as a crash does, releases every lock on it
	// once the server process of that connection has exited, which happens
	// after Close returns.
	if err := first.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !tryLock(t, second, "scrub") {
		if time.Now().After(deadline) {
			t.Fatal("second TryLock(scrub) still false 10s after first closed its connection, want true")
		}
		time.Sleep(10 * time.Millisecond)
	}
	held, err := first.Held(t.Context(), "scrub")
	if err != nil || held {
		t.Errorf("first Held(scrub) after Close = %v, %v; want false, nil", held, err)
	}
}

func TestJobLocksAreSeparatePerSchema(t *testing.T) {
	one := newAdvisoryLocks(t, newSchema(t), "coffer-test-one")
	other := newAdvisoryLocks(t, newSchema(t), "coffer-test-other")

	if !tryLock(t, one, "gc") {
		t.Fatal("TryLock(gc) in the first schema = false, want true")
	}
	if !tryLock(t, other, "gc") {
		t.Error("TryLock(gc) in another schema = false, want true: deployments in other schemas do not exclude each other")
	}
}

func TestSessionLocksWaitForOtherHolder(t *testing.T) {
	url := newSchema(t)
	first := newAdvisoryLocks(t, url, "coffer-test-first")
	second := newAdvisoryLocks(t, url, "coffer-test-second")

	unlock, err := first.LockSession(t.Context(), "0123abcd")
	if err != nil {
		t.Fatalf("first LockSession: %v", err)
	}

	// The second holder must still be waiting when its context ends, however
	// late that is, because the first holds the lock throughout.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := second.LockSession(ctx, "0123abcd"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second LockSession while first holds the session: error %v, want context.DeadlineExceeded", err)
	}
	otherUnlock, err := second.LockSession(t.Context(), "4567ef01")
	if err != nil {
		t.Fatalf("second LockSession of another session: %v", err)
	}
	otherUnlock()

	unlock()
	unlockSecond, err := second.LockSession(t.Context(), "0123abcd")
	if err != nil {
		t.Fatalf("second LockSession after first unlocked: %v", err)
	}
	unlockSecond()
}

func TestSessionLocksApartFromJobLocks(t *testing.T) {
	url := newSchema(t)
	first := newAdvisoryLocks(t, url, "coffer-test-first")
	second := newAdvisoryLocks(t, url, "coffer-test-second")

	if !tryLock(t, first, "gc") {
		t.Fatal("TryLock(gc) = false on a free lock")
	}
	unlock, err := second.LockSession(t.Context(), "gc")
	if err != nil {
		t.Fatalf("LockSession(gc) while another replica holds the gc job lock: %v", err)
	}
	unlock()
}
