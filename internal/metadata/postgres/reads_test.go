package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// newQueuedRead returns a read of sql that scans into dest.
func newQueuedRead(dest any, sql string, args ...any) *queuedRead {
	return &queuedRead{sql: sql, args: args, dest: []any{dest}, done: make(chan struct{})}
}

// TestReadBatcherConcurrentReads sends many concurrent reads through the
// batcher and checks that each gets its own row.
func TestReadBatcherConcurrentReads(t *testing.T) {
	s := openTest(t)
	const readers, reads = 32, 50
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for i := range reads {
				want := fmt.Sprintf("r%d-%d", r, i)
				var got string
				if err := s.reads.row(t.Context(), "SELECT $1::text", want).Scan(&got); err != nil {
					t.Errorf("read %s: %v", want, err)
					return
				}
				if got != want {
					t.Errorf("read %s returned %s", want, got)
					return
				}
			}
		})
	}
	wg.Wait()

	var none string
	err := s.reads.row(t.Context(), "SELECT 'x' WHERE false").Scan(&none)
	if !errors.Is(err, pgx.ErrNoRows) {
		t.Errorf("read of no row: got %v, want pgx.ErrNoRows", err)
	}
}

// TestReadBatcherStatementFailure checks that a statement that fails in a
// batch fails alone: the reads before it have their rows, and the ones
// after it are handed back to be sent again.
func TestReadBatcherStatementFailure(t *testing.T) {
	s := openTest(t)
	var before, after int
	var failing int
	first := newQueuedRead(&before, "SELECT 1")
	broken := newQueuedRead(&failing, "SELECT 1 / $1::int", 0)
	last := newQueuedRead(&after, "SELECT 3")

	again := s.reads.send([]*queuedRead{first, broken, last})
	if first.err != nil || before != 1 {
		t.Errorf("read before the failure: got %d, %v; want 1, nil", before, first.err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(broken.err, &pgErr) || pgErr.Code != "22012" {
		t.Errorf("failing read: got %v, want division_by_zero (22012)", broken.err)
	}
	if len(again) != 1 || again[0] != last {
		t.Fatalf("send handed back %d reads, want the one after the failure", len(again))
	}

	if rest := s.reads.send(again); len(rest) != 0 {
		t.Fatalf("second send handed back %d reads, want none", len(rest))
	}
	if last.err != nil || after != 3 {
		t.Errorf("read after the failure: got %d, %v; want 3, nil", after, last.err)
	}
}

// TestReadBatcherAbandonedRead checks that a read whose caller has gone
// leaves its destination alone and does not disturb the reads around it.
func TestReadBatcherAbandonedRead(t *testing.T) {
	s := openTest(t)
	// No batch may start, so the read below waits until its context ends.
	b := &readBatcher{pool: s.pool, maxFlights: 0}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	abandonedDest := -1
	abandoned := newQueuedRead(&abandonedDest, "SELECT 1")
	if err := b.read(ctx, abandoned); !errors.Is(err, context.Canceled) {
		t.Fatalf("read with a canceled context: got %v, want context.Canceled", err)
	}

	var got int
	next := newQueuedRead(&got, "SELECT 2")
	if rest := b.send([]*queuedRead{abandoned, next}); len(rest) != 0 {
		t.Fatalf("send handed back %d reads, want none", len(rest))
	}
	if next.err != nil || got != 2 {
		t.Errorf("read after an abandoned one: got %d, %v; want 2, nil", got, next.err)
	}
	if abandonedDest != -1 {
		t.Errorf("abandoned read's destination changed to %d", abandonedDest)
	}
}

// batchCounter is a pgx tracer that counts batches and the statements in
// them.
type batchCounter struct {
	mu                  sync.Mutex
	batches, statements int
}

func (c *batchCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (c *batchCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *batchCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	return ctx
}

func (c *batchCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.statements++
}

func (c *batchCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TestReadBatcherSharesRoundTrips checks that reads that wait together go
// out together: one batch, one round trip.
func TestReadBatcherSharesRoundTrips(t *testing.T) {
	counter := &batchCounter{}
	s, err := Open(t.Context(), newSchema(t), WithTracer(counter))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// No batch may start until every read is queued.
	b := &readBatcher{pool: s.pool, maxFlights: 0}

	const reads = 10
	results := make([]int, reads)
	errs := make(chan error, reads)
	for i := range reads {
		go func() {
			errs <- b.row(t.Context(), "SELECT $1::int", i).Scan(&results[i])
		}()
	}
	deadline := time.Now().Add(time.Minute)
	for queued := 0; queued < reads; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d reads queued after a minute", queued, reads)
		}
		runtime.Gosched()
		b.mu.Lock()
		queued = len(b.queue)
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.maxFlights, b.flights = 1, 1
	b.mu.Unlock()
	b.fly()

	for range reads {
		if err := <-errs; err != nil {
			t.Errorf("read: %v", err)
		}
	}
	for i, got := range results {
		if got != i {
			t.Errorf("read %d returned %d", i, got)
		}
	}
	if counter.batches != 1 || counter.statements != reads {
		t.Errorf("%d queued reads went out in %d batches with %d statements, want 1 batch with %d",
			reads, counter.batches, counter.statements, reads)
	}
}
