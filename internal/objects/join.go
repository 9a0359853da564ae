package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Background joins. A completed multipart upload is one blob, named by the
// SHA-256 of all its bytes in order, so CompleteMultipartUpload must read
// every part, hash it and write the joined bytes. Done only at completion,
// that second pass over the object makes the client wait. With background
// joins, the process that records a part starts joining the upload's parts
// at once: part 1 as soon as it is recorded, part 2 once part 1 is joined,
// and so on. Completion then joins only the parts that are left.
//
// A background join only saves time. Completion uses it when the parts it
// joined, named by their staging keys, are the first parts that the
// request lists. Otherwise (a part uploaded again after it was joined, a
// part left out, a completion sent to a replica that joined nothing) it
// discards the join, if any, and joins every part itself.

// joinIdleTimeout ends a background join that no recorded part has woken
// for this long, such as the join of an upload that another replica
// completed or aborted.
const joinIdleTimeout = 10 * time.Minute

// errJoinIdle ends a background join after joinIdleTimeout.
var errJoinIdle = errors.New("no part recorded for " + joinIdleTimeout.String())

// backgroundJoins runs the background joins of one Store.
type backgroundJoins struct {
	limit  int
	ctx    context.Context // cancelled by StopBackgroundJoins
	cancel context.CancelFunc

	mu      sync.Mutex
	active  map[string]*backgroundJoin // by upload ID, and nil after StopBackgroundJoins
	running sync.WaitGroup

	// used counts the completions that continued a background join.
	used atomic.Int64
	// afterPart, when set, runs after a background join appended a part,
	// with the number of parts it joined so far. Tests wait with it.
	afterPart func(uploadID string, joined int)
}

// backgroundJoin joins the parts of one upload in a goroutine of its own.
// The map entry owns it: the code that removes the entry waits for done and
// then commits or cancels blob.
type backgroundJoin struct {
	uploadID string
	wake     chan struct{}      // capacity 1: a part was recorded
	stop     chan struct{}      // closed by take: end after the current part
	cancel   context.CancelFunc // ends the current part too
	done     chan struct{}      // closed when the goroutine ends

	// Written by the goroutine, and read by the owner after done.
	blob   *blob.Join      // nil until the first part
	joined []metadata.Part // in order, from part 1
	err    error
}

// JoinInBackground lets up to limit multipart uploads at a time have their
// parts joined in the background as they are recorded, so that completing
// them takes less time. Call it before serving requests, and
// StopBackgroundJoins at shutdown.
func (s *Store) JoinInBackground(limit int) {
	ctx, cancel := context.WithCancel(context.Background())
	s.joins = &backgroundJoins{limit: limit, ctx: ctx, cancel: cancel, active: map[string]*backgroundJoin{}}
}

// StopBackgroundJoins ends the background joins, waits for their
// goroutines and deletes the bytes they joined. Completions that come
// later join every part themselves.
func (s *Store) StopBackgroundJoins() {
	b := s.joins
	if b == nil {
		return
	}
	b.mu.Lock()
	active := b.active
	b.active = nil
	b.mu.Unlock()
	b.cancel()
	for _, j := range active {
		j.end()
		j.discard()
	}
	b.running.Wait()
}

// wakeJoin wakes the background join of upload id after a part was
// recorded, and starts the join if the limit allows.
func (s *Store) wakeJoin(id string) {
	b := s.joins
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active == nil {
		return
	}
	j, ok := b.active[id]
	if !ok {
		if len(b.active) >= b.limit {
			return
		}
		ctx, cancel := context.WithCancel(b.ctx)
		j = &backgroundJoin{
			uploadID: id,
			wake:     make(chan struct{}, 1),
			stop:     make(chan struct{}),
			cancel:   cancel,
			done:     make(chan struct{}),
		}
		b.active[id] = j
		b.running.Add(1)
		go func() {
			defer b.running.Done()
			s.runJoin(ctx, j)
		}()
	}
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// release removes j from the active joins and reports whether it was
// there, which makes the caller its owner.
func (b *backgroundJoins) release(j *backgroundJoin) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active == nil || b.active[j.uploadID] != j {
		return false
	}
	delete(b.active, j.uploadID)
	return true
}

// remove removes the join of upload id from the active joins and returns
// it, or nil when there is none.
func (b *backgroundJoins) remove(id string) *backgroundJoin {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.active[id]
	if j != nil {
		delete(b.active, id)
	}
	return j
}

// cancelJoin ends the background join of upload id, if any, and deletes
// its bytes.
func (s *Store) cancelJoin(id string) {
	if j := s.joins.remove(id); j != nil {
		j.end()
		j.discard()
	}
}

// takeJoin ends the background join of upload id after the part it is
// joining, and returns its blob and the parts still to append when the
// parts it joined are the first of parts. Otherwise it deletes what the
// join wrote and returns nil.
func (s *Store) takeJoin(id string, parts []metadata.Part) (*blob.Join, []metadata.Part) {
	j := s.joins.remove(id)
	if j == nil {
		return nil, nil
	}
	close(j.stop)
	<-j.done
	j.cancel()
	if j.err != nil || j.blob == nil || !j.prefixOf(parts) {
		j.discard()
		return nil, nil
	}
	return j.blob, parts[len(j.joined):]
}

// end stops the goroutine of j, even in the middle of a part, and waits
// for it.
func (j *backgroundJoin) end() {
	j.cancel()
	<-j.done
}

// discard deletes what j wrote. The goroutine must have ended.
func (j *backgroundJoin) discard() {
	if j.blob != nil {
		j.blob.Cancel(context.Background())
	}
}

// prefixOf reports whether the parts j joined are the first of parts, the
// same staged bytes in the same order.
func (j *backgroundJoin) prefixOf(parts []metadata.Part) bool {
	if len(j.joined) > len(parts) {
		return false
	}
	var size int64
	for i, p := range j.joined {
		if p.Number != parts[i].Number || p.StorageKey != parts[i].StorageKey || p.Size != parts[i].Size {
			return false
		}
		size += p.Size
	}
	return size == j.blob.Size()
}

// runJoin joins the recorded parts of j's upload each time a part is
// recorded, until take or cancel ends it, a part fails to join or no part
// comes for joinIdleTimeout. A join that ends on its own deletes its bytes.
func (s *Store) runJoin(ctx context.Context, j *backgroundJoin) {
	defer close(j.done)
	idle := time.NewTimer(joinIdleTimeout)
	defer idle.Stop()
	for j.err == nil {
		select {
		case <-j.stop:
			return
		case <-ctx.Done():
			j.err = ctx.Err()
		case <-idle.C:
			j.err = errJoinIdle
		case <-j.wake:
			j.err = s.joinRecordedParts(ctx, j)
			idle.Reset(joinIdleTimeout)
		}
	}
	if s.joins.release(j) {
		telemetry.Logger(ctx).DebugContext(ctx, "background join ended", "upload", j.uploadID, "error", j.err)
		j.discard()
	}
}

// joinRecordedParts appends the recorded parts that follow the joined
// ones without a gap, until the next one is missing or take ends the join.
func (s *Store) joinRecordedParts(ctx context.Context, j *backgroundJoin) error {
	for {
		select {
		case <-j.stop:
			return nil
		default:
		}
		next := len(j.joined) + 1
		parts, err := s.meta.ListParts(ctx, j.uploadID, next-1, 1)
		if err != nil {
			return fmt.Errorf("list parts of upload %s: %w", j.uploadID, err)
		}
		if len(parts) == 0 || parts[0].Number != next {
			return nil
		}
		if j.blob == nil {
			// The blob outlives this goroutine when completion takes it.
			if j.blob, err = s.blobs.NewJoin(context.WithoutCancel(ctx)); err != nil {
				return err
			}
		}
		if err := s.appendParts(ctx, j.blob, parts); err != nil {
			return fmt.Errorf("join part %d of upload %s: %w", next, j.uploadID, err)
		}
		j.joined = append(j.joined, parts[0])
		if after := s.joins.afterPart; after != nil {
			after(j.uploadID, len(j.joined))
		}
	}
}

// appendParts appends the staged bytes of parts to b. Append reads ahead
// of the hashing when they hold 8 MiB or more. Reads stop with an error
// when ctx ends.
func (s *Store) appendParts(ctx context.Context, b *blob.Join, parts []metadata.Part) error {
	joined := &partsReader{ctx: ctx, store: s, parts: parts}
	defer joined.Close()
	_, err := b.Append(contextReader{ctx: ctx, r: joined}, partsSize(parts), nil)
	return err
}

// partsSize returns the number of bytes in parts.
func partsSize(parts []metadata.Part) int64 {
	var size int64
	for _, p := range parts {
		size += p.Size
	}
	return size
}

// contextReader fails reads once ctx ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// joinParts stores the bytes of parts, total bytes in all, as one blob. It
// continues the background join of upload id when it can.
func (s *Store) joinParts(ctx context.Context, id string, parts []metadata.Part, total int64) (digest.Digest, int64, string, error) {
	if b, rest := s.takeJoin(id, parts); b != nil {
		d, size, location, err := s.finishJoin(ctx, b, rest)
		if err == nil {
			s.joins.used.Add(1)
			return d, size, location, nil
		}
		telemetry.Logger(ctx).WarnContext(ctx, "background join not used", "upload", id, "error", err)
	}
	joined := &partsReader{ctx: ctx, store: s, parts: parts}
	defer joined.Close()
	return s.blobs.Write(ctx, joined, total, nil, nil)
}

// finishJoin appends the parts left to a background join and commits it.
// A client that goes away does not stop it, as it does not stop a join
// made at completion.
func (s *Store) finishJoin(ctx context.Context, b *blob.Join, rest []metadata.Part) (digest.Digest, int64, string, error) {
	if len(rest) > 0 {
		if err := s.appendParts(context.WithoutCancel(ctx), b, rest); err != nil {
			b.Cancel(ctx)
			return "", 0, "", err
		}
	}
	d, size, location, err := b.Commit(ctx, nil)
	if err != nil {
		b.Cancel(ctx)
	}
	return d, size, location, err
}
