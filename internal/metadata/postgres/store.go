// Package postgres implements Coffer's metadata store on PostgreSQL with the
// pgx driver, for deployments where several cofferd replicas share one
// database.
//
// Every method that writes runs one READ COMMITTED transaction, whatever the
// server's default isolation level is. A transaction that reads a row before
// it changes what depends on it (the object it replaces, the manifest it
// deletes, the upload it completes) locks that row with SELECT … FOR UPDATE,
// and a row that must keep existing until the commit (a bucket, an upload, a
// linked blob) with FOR KEY SHARE. Reference counts change only by UPDATE
// statements that add to the stored value, so concurrent writers on any
// replica keep them exact. Blob rows are updated in digest order, so two
// transactions never wait for each other's blob rows in a cycle. A deadlock
// or serialization failure that PostgreSQL reports anyway rolls the
// transaction back, and it is run again a bounded number of times.
//
// The reads that serve a manifest or blob request run outside explicit
// transactions. Concurrent reads share round trips in pipelined batches
// (see readBatcher), so that under load most of them cost no round trip of
// their own.
//
// Text columns that are compared or sorted use the "C" collation, so order
// is byte order. PostgreSQL text cannot hold NUL bytes or invalid UTF-8; the
// methods treat such names as absent, and listings accept any cursor (see
// keys.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cofferhq/coffer/internal/metadata"
)

// maxAttempts is how many times a write transaction runs when PostgreSQL
// aborts it with a deadlock or a serialization failure.
const maxAttempts = 5

// retryBackoff is the upper bound of the random pause before the second
// attempt; each later attempt doubles it.
const retryBackoff = 5 * time.Millisecond

// Store is a metadata.Store on a PostgreSQL database. It is safe for
// concurrent use, also by several processes on the same database.
type Store struct {
	pool *pgxpool.Pool
	// reads batches the reads of the hot request paths (see readBatcher).
	reads *readBatcher
	// recorder turns each write transaction's changes into outbox events; nil records none.
	recorder metadata.EventRecorder
}

var _ metadata.Store = (*Store)(nil)

// Open connects to the PostgreSQL database at url (a postgres:// URL or a
// keyword/value connection string, as pgx accepts), applies the embedded
// migrations that the schema does not have yet and returns a Store. Tables
// live in the first schema of the connection's search_path, which must
// exist. Several processes may open the same database at once: migrations
// run under a lock, so each is applied once. The connection pool takes its
// settings from pgxpool's parameters in url, such as pool_max_conns, which
// defaults here to defaultMaxConns.
func Open(ctx context.Context, url string, options ...Option) (*Store, error) {
	config, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres metadata store: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		config.MaxConns = defaultMaxConns()
	}
	for _, option := range options {
		option(config)
	}
	where := fmt.Sprintf("%s:%d/%s", config.ConnConfig.Host, config.ConnConfig.Port, config.ConnConfig.Database)

	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fmt.Errorf("open postgres metadata store %s: %w", where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate postgres metadata store %s: %w", where, err)
	}
	return &Store{pool: pool, reads: newReadBatcher(pool)}, nil
}

// Option changes the connection pool settings that Open derives from the URL.
type Option func(*pgxpool.Config)

// WithTracer makes every pooled connection report its queries, batches and
// statement preparations to tracer, which may implement pgx.BatchTracer and
// pgx.PrepareTracer as well as pgx.QueryTracer.
func WithTracer(tracer pgx.QueryTracer) Option {
	return func(config *pgxpool.Config) { config.ConnConfig.Tracer = tracer }
}

// Ping runs a query on a pooled connection.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping postgres metadata store: %w", err)
	}
	return nil
}

// Close closes every pooled connection, after waiting for the ones in use to
// be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// write runs fn in one READ COMMITTED transaction and commits it when fn
// returns nil. Any error from fn rolls the transaction back. When the error
// is a deadlock or serialization failure, fn runs again in a new
// transaction, up to maxAttempts times in all, so fn must set its results
// afresh on each run. Other errors are returned unchanged.
//
// NOTE: retries are neither logged nor counted, because the Store has no
// logger or metrics of its own yet.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = s.writeOnce(ctx, fn)
		if !retryable(err) {
			return err
		}
		if attempt < maxAttempts {
			if err := pause(ctx, attempt); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("transaction failed %d times: %w", maxAttempts, err)
}

// writeOnce runs fn in one transaction.
func (s *Store) writeOnce(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("begin postgres transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		// The rollback error adds nothing: the transaction is abandoned either way.
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit postgres transaction: %w", err)
	}
	return nil
}

// retryable reports whether err aborted a transaction that may succeed when
// run again: a serialization failure (SQLSTATE 40001) or a detected
// deadlock (40P01).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "40001" || pgErr.Code == "40P01"
}

// pause waits a random time below retryBackoff·2^(attempt-1), so that
// transactions that collided do not start again in step.
func pause(ctx context.Context, attempt int) error {
	limit := retryBackoff << (attempt - 1)
	timer := time.NewTimer(rand.N(limit))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("wait to retry postgres transaction: %w", context.Cause(ctx))
	case <-timer.C:
		return nil
	}
}

// unixNano converts t to stored form, using now when t is zero.
func unixNano(t time.Time, now time.Time) int64 {
	if t.IsZero() {
		t = now
	}
	return t.UTC().UnixNano()
}

// fromUnixNano converts a stored time back to a UTC time.Time.
func fromUnixNano(n int64) time.Time {
	return time.Unix(0, n).UTC()
}

// nullString stores an empty string as NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sqlLimit converts a page size to a LIMIT value. Zero or a negative limit
// means no limit, which PostgreSQL spells LIMIT NULL.
func sqlLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return int64(limit)
}

// queryer is the query method that *pgxpool.Pool and pgx.Tx share.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// defaultMaxConns is the pool size when the URL sets none: four
// connections per CPU, at least 8. pgxpool's own default (the larger of 4
// and the number of CPUs) left 64 concurrent blob HEADs waiting for a
// connection on 2 CPUs. With 8 connections, test/bench/run.sh measured
// 8,400 to 9,100 blob HEADs per second there, against 7,300 to 7,700 with 4.
func defaultMaxConns() int32 {
	return int32(max(8, 4*runtime.NumCPU()))
}
