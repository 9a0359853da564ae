package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxBatchReads bounds how many reads one pipelined batch carries.
const maxBatchReads = 64

// batchTimeout bounds one batch, from waiting for a pooled connection to
// reading the last result. A batch serves many requests, so no single
// request's context cancels it. Each request stops waiting when its own
// context ends.
const batchTimeout = time.Minute

// readBatcher runs the single-row reads of the hot request paths (a
// manifest by tag or digest, a blob in a repository) in pipelined batches.
// Reads that arrive while the batches in flight are busy wait in a queue.
// The next batch sends all of them on one connection, so the lot costs one
// write, one round trip and one wakeup of the PostgreSQL backend, as much as
// a single read costs on its own. A lone read goes out at once, in a batch
// of one.
//
// A batch starts after every read in it was queued, and PostgreSQL gives
// each statement of a READ COMMITTED batch a fresh snapshot, so a read sees
// every write committed before it was asked for, on any replica. Nothing
// is cached.
type readBatcher struct {
	pool *pgxpool.Pool
	// maxFlights is how many batches may be in flight at once. It is kept
	// below the pool size, so that writes always find a connection.
	maxFlights int

	mu      sync.Mutex
	queue   []*queuedRead
	flights int
}

// Read states: a queued read is waiting until a batch scans its row or its
// caller abandons it, whichever happens first.
const (
	readWaiting int32 = iota
	readTaken
	readAbandoned
)

// queuedRead is one read waiting for a batch.
type queuedRead struct {
	sql  string
	args []any
	dest []any
	err  error
	// state moves from readWaiting to readTaken (a batch scans into dest)
	// or to readAbandoned (the caller has gone, and dest must not be
	// touched).
	state atomic.Int32
	done  chan struct{}
}

func newReadBatcher(pool *pgxpool.Pool) *readBatcher {
	return &readBatcher{pool: pool, maxFlights: max(1, int(pool.Config().MaxConns)/2)}
}

// row returns a pgx.Row whose Scan runs sql in the next batch.
func (b *readBatcher) row(ctx context.Context, sql string, args ...any) pgx.Row {
	return batchedRow{batcher: b, ctx: ctx, sql: sql, args: args}
}

// batchedRow is a read that has not been sent yet.
type batchedRow struct {
	batcher *readBatcher
	ctx     context.Context
	sql     string
	args    []any
}

// Scan queues the read, waits for its batch and scans the row into dest.
// It returns pgx.ErrNoRows when the query selects no row.
func (r batchedRow) Scan(dest ...any) error {
	return r.batcher.read(r.ctx, &queuedRead{sql: r.sql, args: r.args, dest: dest, done: make(chan struct{})})
}

// read queues q, starts a batch when fewer than maxFlights are in flight,
// and waits until q has its result or ctx ends.
func (b *readBatcher) read(ctx context.Context, q *queuedRead) error {
	b.mu.Lock()
	b.queue = append(b.queue, q)
	start := b.flights < b.maxFlights
	if start {
		b.flights++
	}
	b.mu.Unlock()
	if start {
		go b.fly()
	}

	select {
	case <-q.done:
		return q.err
	case <-ctx.Done():
		if q.state.CompareAndSwap(readWaiting, readAbandoned) {
			return context.Cause(ctx)
		}
		// A batch is scanning the row into dest, which takes no round trip.
		<-q.done
		return q.err
	}
}

// fly sends batches until the queue is empty.
func (b *readBatcher) fly() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), maxBatchReads)
		if n == 0 {
			b.flights--
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		if len(b.queue) == 0 {
			b.queue = nil
		}
		b.mu.Unlock()

		for len(batch) > 0 {
			batch = b.send(batch)
		}
	}
}

// send runs the reads of batch that are still pending in one round trip
// and hands each its result. When a statement fails on the server,
// PostgreSQL skips the statements after it, so send returns those reads to
// be sent again. Otherwise it returns nil.
func (b *readBatcher) send(batch []*queuedRead) []*queuedRead {
	pending := make([]*queuedRead, 0, len(batch))
	for _, q := range batch {
		if q.state.Load() == readWaiting {
			pending = append(pending, q)
		}
	}
	if len(pending) == 0 {
		return nil
	}

	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	var pgBatch pgx.Batch
	for _, q := range pending {
		pgBatch.Queue(q.sql, q.args...)
	}
	results := b.pool.SendBatch(ctx, &pgBatch)
	// Close reads what is left of the batch. The results that count have
	// been handed out by then, so its error adds nothing.
	defer func() { _ = results.Close() }()
	var broken error
	for i, q := range pending {
		q.err = broken
		if broken == nil {
			q.err = scanResult(results, q)
		}
		close(q.done)
		if q.err == nil || errors.Is(q.err, pgx.ErrNoRows) || broken != nil {
			continue
		}
		if statementFailed(q.err) {
			return pending[i+1:]
		}
		// The connection failed, so the reads after q cannot succeed on it.
		broken = q.err
	}
	return nil
}

// scanResult reads the next result of a batch into q's destinations, or
// discards it when q's caller has gone.
func scanResult(results pgx.BatchResults, q *queuedRead) error {
	if q.state.CompareAndSwap(readWaiting, readTaken) {
		return results.QueryRow().Scan(q.dest...)
	}
	rows, err := results.Query()
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// statementFailed reports whether err failed one statement of a batch but
// left the connection usable: an error from the server, or a row that does
// not fit the destination.
func statementFailed(err error) bool {
	var pgErr *pgconn.PgError
	var scanErr pgx.ScanArgError
	return errors.As(err, &pgErr) || errors.As(err, &scanErr)
}
