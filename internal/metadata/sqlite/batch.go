package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
)

// maxBatch is the largest number of write transactions that commit as one.
const maxBatch = 64

// Statements that keep the writes of one batch apart. ROLLBACK TO keeps the
// savepoint open, so a failed write rolls back and then releases it.
const (
	savepointQuery  = `SAVEPOINT batched_write`
	releaseQuery    = `RELEASE batched_write`
	rollbackToQuery = `ROLLBACK TO batched_write`
)

// writeBatcher groups the write transactions that arrive while one commits,
// so that they share one SQLite transaction and one fsync of the WAL. With
// synchronous=FULL every commit waits for the disk, and the writer runs one
// transaction at a time, so without batching the disk's flush rate bounds
// the rate of writes.
//
// The first caller to find no batch running leads: it takes the queue,
// its own request first, runs the batch and wakes the callers in it. If
// more requests queued meanwhile, it makes the oldest of them the next
// leader, so no caller runs batches for others after its own has ended.
type writeBatcher struct {
	mu      sync.Mutex
	leading bool            // a caller runs a batch now
	queue   []*writeRequest // requests waiting for a batch, oldest first
}

// writeRequest is one call of Store.write.
type writeRequest struct {
	fn func(ctx context.Context, tx *sql.Tx) error
	// wake receives true when the caller must lead the next batch, or
	// false when its request ran.
	wake     chan bool
	err      error
	panicked any // the value fn panicked with, re-raised in the caller
}

// write runs fn in a transaction on the writer connection and returns once
// that transaction committed or rolled back. Any error from fn rolls back
// what fn wrote and is returned unchanged. Transactions of concurrent
// callers may commit together, each inside its own savepoint, in the order
// they arrived. fn receives a context without ctx's cancellation, because a
// statement interrupted by a cancellation makes SQLite roll back the whole
// transaction, which would fail every write of the batch.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	req := &writeRequest{fn: fn, wake: make(chan bool, 1)}
	b := &s.batches

	b.mu.Lock()
	b.queue = append(b.queue, req)
	if b.leading {
		b.mu.Unlock()
		if lead := <-req.wake; !lead {
			return req.result()
		}
		b.mu.Lock()
	}
	b.leading = true
	// req is first in the queue: it was empty, or req was promoted.
	n := min(len(b.queue), maxBatch)
	batch := slices.Clone(b.queue[:n])
	b.queue = slices.Delete(b.queue, 0, n)
	b.mu.Unlock()

	s.runBatch(context.WithoutCancel(ctx), batch)

	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].wake <- true
	} else {
		b.leading = false
	}
	b.mu.Unlock()
	for _, r := range batch[1:] {
		r.wake <- false
	}
	return req.result()
}

// result returns the request's error, or panics again with the value its
// function panicked with.
func (r *writeRequest) result() error {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// runBatch runs the requests in one transaction and sets each one's result.
// A single request runs without a savepoint.
func (s *Store) runBatch(ctx context.Context, batch []*writeRequest) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		failAll(batch, fmt.Errorf("begin sqlite transaction: %w", err))
		return
	}
	if len(batch) == 1 {
		if batch[0].run(ctx, tx) {
			// The rollback error adds nothing: the transaction is abandoned either way.
			_ = tx.Rollback()
			return
		}
	} else if err := s.runSavepoints(ctx, tx, batch); err != nil {
		_ = tx.Rollback()
		failAll(batch, err)
		return
	}
	if err := tx.Commit(); err != nil {
		failAll(batch, fmt.Errorf("commit sqlite transaction: %w", err))
	}
}

// runSavepoints runs each request inside a savepoint of tx, and rolls back
// to the savepoint when the request fails. It returns an error when the
// transaction itself can no longer commit.
func (s *Store) runSavepoints(ctx context.Context, tx *sql.Tx, batch []*writeRequest) error {
	savepoint := tx.StmtContext(ctx, s.writes.savepoint)
	release := tx.StmtContext(ctx, s.writes.release)
	rollbackTo := tx.StmtContext(ctx, s.writes.rollbackTo)
	for _, r := range batch {
		if _, err := savepoint.ExecContext(ctx); err != nil {
			return fmt.Errorf("open savepoint in sqlite transaction: %w", err)
		}
		if r.run(ctx, tx) {
			if _, err := rollbackTo.ExecContext(ctx); err != nil {
				return fmt.Errorf("roll back a failed write in sqlite transaction: %w", err)
			}
		}
		if _, err := release.ExecContext(ctx); err != nil {
			return fmt.Errorf("release savepoint in sqlite transaction: %w", err)
		}
	}
	return nil
}

// run calls the request's function in tx and reports whether it failed,
// with an error or a panic.
func (r *writeRequest) run(ctx context.Context, tx *sql.Tx) (failed bool) {
	defer func() {
		if v := recover(); v != nil {
			r.panicked = v
			failed = true
		}
	}()
	r.err = r.fn(ctx, tx)
	return r.err != nil
}

// failAll gives err to every request that has not failed on its own: their
// writes did not commit.
func failAll(batch []*writeRequest, err error) {
	for _, r := range batch {
		if r.err == nil && r.panicked == nil {
			r.err = err
		}
	}
}
