// Package sqlite implements Coffer's metadata store on one SQLite database
// file, with the pure-Go driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so a write that
// returned without error survives a crash or power loss. A Store holds two
// connection pools on the same file: a writer pool with a single connection
// that runs every writing transaction, and a reader pool of query-only
// connections. In WAL mode readers see the last committed state and do not
// wait for the writer's open transaction.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeout is how long a connection waits for a lock that another process
// holds on the same file before it fails with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// minReaders is the smallest reader pool. With a larger GOMAXPROCS the pool
// gets one connection per GOMAXPROCS.
const minReaders = 4

// Store is a metadata.Store on a SQLite database file. It is safe for
// concurrent use.
type Store struct {
	writer *sql.DB // a single connection, which runs every transaction that writes
	reader *sql.DB // query-only connections for reads
	read   readStatements
	writes writeStatements
	// batches groups concurrent write transactions into one commit.
	batches writeBatcher
	// recorder turns each write transaction's changes into outbox events; nil records none.
	recorder metadata.EventRecorder
}

var _ metadata.Store = (*Store)(nil)

// Open opens or creates the database file at path, applies the migrations it
// does not have yet and returns a Store. The directory must exist. Open
// rejects ":memory:", because the two pools must share one database, and a
// path with '?' or a "file:" prefix, because the driver would read part of it
// as URI parameters.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("open sqlite metadata store: invalid path %q: use a plain file path, without '?' or a \"file:\" prefix", path)
	}

	writer, err := sql.Open("sqlite", dataSourceName(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite metadata store %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxIdleTime(0)
	writer.SetConnMaxLifetime(0)

	// Migrations run before the reader pool opens, so that readers find the
	// file already in WAL mode and at the current schema.
	if err := migrate(ctx, writer); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("migrate sqlite metadata store %s: %w", path, err)
	}

	reader, err := sql.Open("sqlite", dataSourceName(path, true))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("open sqlite metadata store %s: %w", path, err)
	}
	readers := max(minReaders, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	reader.SetConnMaxIdleTime(0)
	reader.SetConnMaxLifetime(0)

	s := &Store{writer: writer, reader: reader}
	if err := s.prepare(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open sqlite metadata store %s: %w", path, err)
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// dataSourceName builds the modernc.org/sqlite DSN for path. Every connection
// gets the same pragmas, and reader connections are also query-only. Writer
// transactions begin IMMEDIATE, so they take the write lock at BEGIN rather
// than at their first write.
func dataSourceName(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// Ping runs a query on a reader connection. It does not wait for a running
// write transaction.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping sqlite metadata store: %w", err)
	}
	return nil
}

// Close closes the prepared statements and both connection pools.
func (s *Store) Close() error {
	return errors.Join(closeAll(s.read.list()), closeAll(s.writes.list()), s.reader.Close(), s.writer.Close())
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
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// sqlLimit converts a page size to a LIMIT value. Zero or a negative limit
// means no limit, which SQLite spells -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
