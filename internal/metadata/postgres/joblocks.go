package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// jobLockClass is the first key of the advisory locks that let one replica
// at a time run a background job. The second key is hashtext of the
// schema name and the job name joined by "/", so that deployments in
// different schemas of one database do not exclude each other. The value
// is arbitrary but fixed: every build must use the same one.
const jobLockClass = 0x0C0FFF

// lockKey is the SQL expression of the second key for the job in $2.
const lockKey = `hashtext(current_schema() || '/' || $2)`

// JobLocks hands out cluster-wide locks for background jobs (garbage
// collection, the scrub, upload expiry) as PostgreSQL session-level
// advisory locks, all taken on one connection of their own. PostgreSQL
// releases a session's advisory locks when its connection ends, so the
// locks of a replica that crashes go with its connection, and another
// replica takes them at its next try. No clock and no expiry time are
// involved.
//
// A JobLocks is safe for concurrent use: a mutex serialises the queries on
// its connection.
type JobLocks struct {
	config *pgx.ConnConfig

	mu   sync.Mutex
	conn *pgx.Conn       // nil until the first TryLock and after a failure
	held map[string]bool // the jobs locked on conn
}

// NewJobLocks prepares job locks on the database at url, the URL the
// metadata store uses. owner becomes the connection's application_name, so
// pg_stat_activity shows which replica holds a lock. The connection opens
// on the first TryLock.
func NewJobLocks(url, owner string) (*JobLocks, error) {
	// pgxpool's parser accepts and strips the pool settings (pool_max_conns
	// and friends) that the metadata URL may carry.
	config, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("job locks: %w", err)
	}
	conn := config.ConnConfig.Copy()
	conn.RuntimeParams["application_name"] = owner
	return &JobLocks{config: conn, held: map[string]bool{}}, nil
}

// TryLock takes the lock of job without waiting and reports whether it got
// it. It is true again for a job this JobLocks already holds.
func (l *JobLocks) TryLock(ctx context.Context, job string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[job] {
		return true, nil
	}
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, l.config)
		if err != nil {
			return false, fmt.Errorf("connect for job locks: %w", err)
		}
		l.conn = conn
	}

	var got bool
	err := l.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, `+lockKey+`)`, int32(jobLockClass), job).Scan(&got)
	if err != nil {
		l.drop(ctx)
		return false, fmt.Errorf("lock job %s: %w", job, err)
	}
	if got {
		l.held[job] = true
	}
	return got, nil
}

// Held reports whether this JobLocks still holds the lock of job. It queries
// the server, so a broken connection, which released every lock, reports
// false with the error.
func (l *JobLocks) Held(ctx context.Context, job string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[job] {
		return false, nil
	}
	const query = `SELECT EXISTS (SELECT 1 FROM pg_locks
		WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
		AND classid = $1::int4::oid AND objid = ` + lockKey + `::oid AND objsubid = 2)`
	var held bool
	if err := l.conn.QueryRow(ctx, query, int32(jobLockClass), job).Scan(&held); err != nil {
		l.drop(ctx)
		return false, fmt.Errorf("check lock of job %s: %w", job, err)
	}
	if !held {
		delete(l.held, job)
	}
	return held, nil
}

// Unlock releases the lock of job, if this JobLocks holds it.
func (l *JobLocks) Unlock(ctx context.Context, job string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[job] {
		return nil
	}
	delete(l.held, job)
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, `+lockKey+`)`, int32(jobLockClass), job); err != nil {
		l.drop(ctx)
		return fmt.Errorf("unlock job %s: %w", job, err)
	}
	return nil
}

// Close ends the connection, which releases every lock it holds.
func (l *JobLocks) Close(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return nil
	}
	err := l.conn.Close(ctx)
	l.conn, l.held = nil, map[string]bool{}
	if err != nil {
		return fmt.Errorf("close job lock connection: %w", err)
	}
	return nil
}

// drop closes a connection that failed. Whatever it held, the server
// releases when it notices the connection is gone. l.mu must be held.
func (l *JobLocks) drop(ctx context.Context) {
	_ = l.conn.Close(ctx)
	l.conn, l.held = nil, map[string]bool{}
}
