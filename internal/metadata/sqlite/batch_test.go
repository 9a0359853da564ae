package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// insertBucket returns a write that records a bucket named name.
func insertBucket(name string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO buckets (name, region, created) VALUES (?, 'us-east-1', 1)`, name)
		return err
	}
}

// bucketNames lists the stored buckets in name order.
func bucketNames(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), `SELECT name FROM buckets ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func newRequests(fns ...func(ctx context.Context, tx *sql.Tx) error) []*writeRequest {
	batch := make([]*writeRequest, len(fns))
	for i, fn := range fns {
		batch[i] = &writeRequest{fn: fn, wake: make(chan bool, 1)}
	}
	return batch
}

func TestBatchRollsBackOnlyTheFailedWrite(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	failure := errors.New("rejected")
	batch := newRequests(
		insertBucket("first"),
		func(ctx context.Context, tx *sql.Tx) error {
			if err := insertBucket("second")(ctx, tx); err != nil {
				return err
			}
			return failure
		},
		insertBucket("third"),
	)

	s.runBatch(ctx, batch)

	if batch[0].err != nil || batch[2].err != nil {
		t.Fatalf("errors of the good writes: %v, %v", batch[0].err, batch[2].err)
	}
	if !errors.Is(batch[1].err, failure) {
		t.Fatalf("error of the failed write: %v, want %v", batch[1].err, failure)
	}
	if got, want := bucketNames(t, s), []string{"first", "third"}; !slices.Equal(got, want) {
		t.Fatalf("buckets = %q, want %q", got, want)
	}
}

func TestBatchKeepsPanicForItsCaller(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	batch := newRequests(
		func(context.Context, *sql.Tx) error { panic("broken write") },
		insertBucket("kept"),
	)

	s.runBatch(ctx, batch)

	if batch[0].panicked != "broken write" {
		t.Fatalf("panic value = %v, want %q", batch[0].panicked, "broken write")
	}
	if batch[1].err != nil {
		t.Fatalf("error of the good write: %v", batch[1].err)
	}
	if got, want := bucketNames(t, s), []string{"kept"}; !slices.Equal(got, want) {
		t.Fatalf("buckets = %q, want %q", got, want)
	}
}

func TestBatchFailsEveryWriteWhenTheTransactionEnds(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	// A write that ends the transaction, as SQLite does itself after an
	// interrupted statement, takes the earlier writes of the batch with it.
	batch := newRequests(
		insertBucket("lost"),
		func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `ROLLBACK`)
			return err
		},
		insertBucket("never"),
	)

	s.runBatch(ctx, batch)

	for i, r := range batch {
		if r.err == nil {
			t.Errorf("write %d succeeded, want an error", i)
		}
	}
	if got := bucketNames(t, s); len(got) != 0 {
		t.Fatalf("buckets = %q, want none", got)
	}
}

func TestWriteFromManyCallers(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	const callers = 40

	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			write := insertBucket(fmt.Sprintf("bucket-%02d", i))
			if i%4 == 3 {
				write = func(context.Context, *sql.Tx) error { return fmt.Errorf("write %d rejected", i) }
			}
			errs[i] = s.write(ctx, write)
		})
	}
	wg.Wait()

	var want []string
	for i, err := range errs {
		if i%4 == 3 {
			if err == nil || err.Error() != fmt.Sprintf("write %d rejected", i) {
				t.Errorf("write %d: error %v, want its own", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
		want = append(want, fmt.Sprintf("bucket-%02d", i))
	}
	if got := bucketNames(t, s); !slices.Equal(got, want) {
		t.Fatalf("buckets = %q, want %q", got, want)
	}
	if s.batches.leading || len(s.batches.queue) != 0 {
		t.Fatalf("batcher left leading=%v with %d queued", s.batches.leading, len(s.batches.queue))
	}
}

func TestWritePanicReachesCaller(t *testing.T) {
	s := openTemp(t)
	defer func() {
		if v := recover(); v != "broken write" {
			t.Fatalf("recovered %v, want %q", v, "broken write")
		}
	}()
	_ = s.write(t.Context(), func(context.Context, *sql.Tx) error { panic("broken write") })
	t.Fatal("write returned instead of panicking")
}

func TestWriteIgnoresCallerCancellation(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	// A cancelled statement would end the transaction that the write
	// shares with others, so the write runs to its end.
	if err := s.write(ctx, insertBucket("kept")); err != nil {
		t.Fatalf("write with a cancelled context: %v", err)
	}
	if got := bucketNames(t, s); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("buckets = %q, want [kept]", got)
	}
}
