package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// jobLockClass is the first key of the advisory locks that let one replica
// at a time run a background job. The second key is hashtext of the
// schema name and the job name joined by "/", so that deployments in
// different schemas of one database do not exclude each other. The value
// is arbitrary but fixed: every build must use the same one.
const jobLockClass = 0x0C0FFF

// sessionLockClass is the first key of the advisory locks that let one
// replica at a time write to an upload session; the second key is built
// from the session ID as for jobs.
const sessionLockClass = 0x0C1000

// lockKey is the SQL expression of the second key for the name in $2.
const lockKey = `hashtext(current_schema() || '/' || $2)`

// lockName is one advisory lock: its class and the name hashed into its
// second key.
type lockName struct {
	class int32
	name  string
}

// Session lock polling: a request waiting for a session that another
// replica writes to tries again after sessionPollMin, doubling the pause up
// to sessionPollMax.
const (
	sessionPollMin = 5 * time.Millisecond
	sessionPollMax = 200 * time.Millisecond
)

// AdvisoryLocks hands out cluster-wide locks for background jobs (garbage
// collection, the scrub, upload expiry) and for upload sessions as
// PostgreSQL session-level advisory locks, all taken on one connection of
// their own. PostgreSQL releases a session's advisory locks when its
// connection ends, so the locks of a replica that crashes go with its
// connection, and another replica takes them at its next try. No clock and
// no expiry time are involved.
//
// An AdvisoryLocks is safe for concurrent use: a mutex serialises the
// queries on its connection.
type AdvisoryLocks struct {
	config *pgx.ConnConfig

	mu   sync.Mutex
	conn *pgx.Conn         // nil until the first lock and after a failure
	held map[lockName]bool // the locks taken on conn
}

// NewAdvisoryLocks prepares advisory locks on the database at url, the URL
// the metadata store uses. owner becomes the connection's application_name,
// so pg_stat_activity shows which replica holds a lock. The connection
// opens when the first lock is taken.
func NewAdvisoryLocks(url, owner string) (*AdvisoryLocks, error) {
	// pgxpool's parser accepts and strips the pool settings (pool_max_conns
	// and friends) that the metadata URL may carry.
	config, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("advisory locks: %w", err)
	}
	conn := config.ConnConfig.Copy()
	conn.RuntimeParams["application_name"] = owner
	return &AdvisoryLocks{config: conn, held: map[lockName]bool{}}, nil
}

// TryLock takes the lock of job without waiting and reports whether it got
// it. It is true again for a job this AdvisoryLocks already holds.
func (l *AdvisoryLocks) TryLock(ctx context.Context, job string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	got, err := l.tryLock(ctx, lockName{jobLockClass, job})
	if err != nil {
		return false, fmt.Errorf("lock job %s: %w", job, err)
	}
	return got, nil
}

// LockSession waits until it holds the lock of upload session id, trying
// again at growing pauses while another replica holds it, or returns ctx's
// error. The returned function releases the lock. It implements
// blob.SharedSessionLocks.
func (l *AdvisoryLocks) LockSession(ctx context.Context, id string) (func(), error) {
	lock := lockName{sessionLockClass, id}
	pause := sessionPollMin
	for {
		l.mu.Lock()
		got, err := l.tryLock(ctx, lock)
		l.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("lock upload session %s: %w", id, err)
		}
		if got {
			return func() { l.unlockSession(ctx, lock) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for upload session %s, which another replica is writing: %w", id, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, sessionPollMax)
	}
}

// unlockSession releases a session lock, also when the request's context
// has ended. A failure closes the connection, which releases the lock too.
func (l *AdvisoryLocks) unlockSession(ctx context.Context, lock lockName) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sessionUnlockTimeout)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	_ = l.unlock(ctx, lock)
}

// sessionUnlockTimeout bounds the release of a session lock.
const sessionUnlockTimeout = 10 * time.Second

// tryLock connects when needed and takes lock without waiting. l.mu must be
// held.
func (l *AdvisoryLocks) tryLock(ctx context.Context, lock lockName) (bool, error) {
	if l.held[lock] {
		return true, nil
	}
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, l.config)
		if err != nil {
			return false, fmt.Errorf("connect for advisory locks: %w", err)
		}
		l.conn = conn
	}

	var got bool
	err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, `+lockKey+`)`, lock.class, lock.name).Scan(&got)
	if err != nil {
		l.drop(ctx)
		return false, err
	}
	if got {
		l.held[lock] = true
	}
	return got, nil
}

// Held reports whether this AdvisoryLocks still holds the lock of job. It queries
// the server, so a broken connection, which released every lock, reports
// false with the error.
func (l *AdvisoryLocks) Held(ctx context.Context, job string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lock := lockName{jobLockClass, job}
	if !l.held[lock] {
		return false, nil
	}
	const query = `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		AND classid = $1::int4::oid AND objid = ` + lockKey + `::oid AND objsubid = 2)`
	var held bool
	if err := l.conn.QueryRow(ctx, query, lock.class, lock.name).Scan(&held); err != nil {
		l.drop(ctx)
		return false, fmt.Errorf("check lock of job %s: %w", job, err)
	}
	if !held {
		delete(l.held, lock)
	}
	return held, nil
}

// Unlock releases the lock of job, if this AdvisoryLocks holds it.
func (l *AdvisoryLocks) Unlock(ctx context.Context, job string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.unlock(ctx, lockName{jobLockClass, job}); err != nil {
		return fmt.Errorf("unlock job %s: %w", job, err)
	}
	return nil
}

// unlock releases lock if it is held. l.mu must be held.
func (l *AdvisoryLocks) unlock(ctx context.Context, lock lockName) error {
	if !l.held[lock] {
		return nil
	}
	delete(l.held, lock)
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, `+lockKey+`)`, lock.class, lock.name); err != nil {
		l.drop(ctx)
		return err
	}
	return nil
}

// Close ends the connection, which releases every lock it holds.
func (l *AdvisoryLocks) Close(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close(ctx)
	l.conn, l.held = nil, map[lockName]bool{}
	if err != nil {
		return fmt.Errorf("close job lock connection: %w", err)
	}
	return nil
}

// drop closes a connection that failed. Whatever it held, the server
// releases when it notices the connection is gone. l.mu must be held.
func (l *AdvisoryLocks) drop(ctx context.Context) {
	_ = l.conn.Close(ctx)
	l.conn, l.held = nil, map[lockName]bool{}
}
