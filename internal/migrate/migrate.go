// Package migrate copies a whole Coffer deployment, its blob storage and
// its metadata, into another one, typically from a single node (filesystem
// storage and SQLite) to a scaled-out one (S3 storage and PostgreSQL).
//
// A run goes through these steps, in this order:
//
//  1. Buckets, with their regions and creation times.
//  2. For each repository: its blob links, then its manifests (images and
//     other manifests without children first, then indexes, whose
//     children must be stored before them), then its tags. Referrers need
//     no step of their own: the target indexes each manifest's subject as
//     it stores the manifest.
//  3. For each bucket: its objects, with every field the objects domain
//     stores (ETag, content type, headers, user metadata, checksums, parts,
//     modification time).
//
// Blob content is copied before the first record that needs it, streamed
// from the source driver into the target blob store, which hashes it while
// it streams and commits it under its digest only when the digest and size
// match. Content the target already holds at the right size is not copied
// again: the target blob store only ever commits verified content. Every
// metadata write is idempotent, so an interrupted run is resumed by running
// it again. The new run skips what the target already holds and finishes
// the rest.
//
// Not copied: open OCI upload sessions and S3 multipart uploads (clients
// start them again; the report counts them), and blob rows that nothing
// links or references, which garbage collection would reclaim anyway.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// pageSize is how many records one listing returns.
const pageSize = 500

// defaultWorkers is how many records a run copies at once when
// Options.Workers is zero.
const defaultWorkers = 8

// Source is the part of a metadata store that a run reads.
type Source interface {
	metadata.Repositories
	metadata.Export
	ListBlobs(ctx context.Context, after digest.Digest, limit int) ([]metadata.Blob, error)
	GetBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error)
	ListBuckets(ctx context.Context) ([]metadata.Bucket, error)
	ListObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]metadata.Object, error)
	ListUploadsBefore(ctx context.Context, before time.Time, after string, limit int) ([]metadata.Upload, error)
	ListMultipartUploads(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) ([]metadata.MultipartUpload, error)
}

// Target is the part of a metadata store that a run writes.
type Target interface {
	CreateBucket(ctx context.Context, b metadata.Bucket) error
	LinkBlob(ctx context.Context, repo string, b metadata.Blob) error
	UnlinkBlob(ctx context.Context, repo string, d digest.Digest) error
	PutManifest(ctx context.Context, m *metadata.Manifest, tags ...string) error
	GetManifest(ctx context.Context, repo string, d digest.Digest) (*metadata.Manifest, error)
	GetTaggedManifest(ctx context.Context, repo, tag string) (*metadata.Manifest, error)
	ListObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]metadata.Object, error)
	PutObject(ctx context.Context, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, error)
}

// Item names the kind of record Options.AfterItem reports.
type Item string

// The kinds of records a run copies.
const (
	ItemBucket   Item = "bucket"
	ItemBlobLink Item = "blob link"
	ItemManifest Item = "manifest"
	ItemTag      Item = "tag"
	ItemObject   Item = "object"
)

// Options configures a run.
type Options struct {
	// Workers is how many records are copied at once; zero means 8.
	Workers int
	// AfterItem, when set, is called after each record is stored in the
	// target, from several goroutines at once.
	AfterItem func(Item)
}

// Report counts what a run did. Buckets to Objects count the records the
// run stored in the target or found there already.
type Report struct {
	Buckets      int64
	Repositories int64
	BlobLinks    int64
	Manifests    int64
	Tags         int64
	Objects      int64
	// BlobsCopied and BytesCopied count content streamed into the target;
	// BlobsPresent counts content the target already held.
	BlobsCopied  int64
	BytesCopied  int64
	BlobsPresent int64
	// UploadSessions and MultipartUploads count the open uploads of the
	// source, which are not copied.
	UploadSessions   int64
	MultipartUploads int64
}

// Migrator copies one deployment into another.
type Migrator struct {
	src       Source
	srcDriver storage.Driver
	dst       Target
	dstBlobs  *blob.Store
	opts      Options

	report Report
	// content maps each digest this run has checked or copied to its
	// *contentCopy, so that a blob shared by many records is handled once.
	content sync.Map
}

// New returns a Migrator from the source metadata and storage driver to
// the target metadata and storage driver.
func New(src Source, srcDriver storage.Driver, dst Target, dstDriver storage.Driver, opts Options) *Migrator {
	if opts.Workers <= 0 {
		opts.Workers = defaultWorkers
	}
	return &Migrator{src: src, srcDriver: srcDriver, dst: dst, dstBlobs: blob.New(dstDriver, nil), opts: opts}
}

// Run copies everything and returns what it did. It stops at the first
// error, which names the record or blob that failed; running it again
// continues where it stopped.
func (m *Migrator) Run(ctx context.Context) (*Report, error) {
	logger := telemetry.Logger(ctx)
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"buckets", m.copyBuckets},
		{"repositories", m.copyRepositories},
		{"objects", m.copyObjects},
		{"open uploads", m.countUploads},
	}
	for _, step := range steps {
		logger.Info("migration step started", "step", step.name)
		if err := step.run(ctx); err != nil {
			return m.snapshot(), err
		}
	}
	r := m.snapshot()
	logger.Info("migration finished", "manifests", r.Manifests, "objects", r.Objects,
		"blobs_copied", r.BlobsCopied, "bytes_copied", r.BytesCopied, "blobs_present", r.BlobsPresent)
	return r, nil
}

// snapshot returns a copy of the counters.
func (m *Migrator) snapshot() *Report {
	r := &Report{}
	for _, c := range []struct{ dst, src *int64 }{
		{&r.Buckets, &m.report.Buckets}, {&r.Repositories, &m.report.Repositories},
		{&r.BlobLinks, &m.report.BlobLinks}, {&r.Manifests, &m.report.Manifests},
		{&r.Tags, &m.report.Tags}, {&r.Objects, &m.report.Objects},
		{&r.BlobsCopied, &m.report.BlobsCopied}, {&r.BytesCopied, &m.report.BytesCopied},
		{&r.BlobsPresent, &m.report.BlobsPresent}, {&r.UploadSessions, &m.report.UploadSessions},
		{&r.MultipartUploads, &m.report.MultipartUploads},
	} {
		*c.dst = atomic.LoadInt64(c.src)
	}
	return r
}

// done counts one stored record and calls Options.AfterItem.
func (m *Migrator) done(item Item, counter *int64) {
	atomic.AddInt64(counter, 1)
	if m.opts.AfterItem != nil {
		m.opts.AfterItem(item)
	}
}

// contentCopy is the check or copy of one blob's content, which every
// record that needs the blob waits for.
type contentCopy struct {
	done chan struct{}
	err  error
}

// ensureContent makes sure the target storage holds blob d of the given
// size, copying it from the source when it does not. Records that share a
// blob wait for one copy instead of writing the same key at once.
func (m *Migrator) ensureContent(ctx context.Context, d digest.Digest, size int64) error {
	call := &contentCopy{done: make(chan struct{})}
	if earlier, loaded := m.content.LoadOrStore(d, call); loaded {
		earlier := earlier.(*contentCopy)
		select {
		case <-earlier.done:
			return earlier.err
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	call.err = m.checkOrCopy(ctx, d, size)
	close(call.done)
	return call.err
}

// checkOrCopy copies blob d unless the target storage has it at the right
// size already.
func (m *Migrator) checkOrCopy(ctx context.Context, d digest.Digest, size int64) error {
	stored, err := m.dstBlobs.Stat(ctx, d)
	switch {
	case err == nil && stored == size:
		atomic.AddInt64(&m.report.BlobsPresent, 1)
		return nil
	case err == nil || errors.Is(err, blob.ErrNotFound):
		return m.copyWithRetries(ctx, d, size)
	default:
		return fmt.Errorf("check blob %s in the target: %w", d, err)
	}
}

// copyAttempts bounds the copies of one blob that fail on a missing or
// unavailable storage key before the run stops.
const copyAttempts = 3

// copyWithRetries copies blob d, and copies it again through a new upload
// key when storage loses or cannot reach a key on the way. A digest or
// size mismatch is never retried.
func (m *Migrator) copyWithRetries(ctx context.Context, d digest.Digest, size int64) error {
	var err error
	for attempt := 1; attempt <= copyAttempts; attempt++ {
		err = m.copyContent(ctx, d, size)
		transient := errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrUnavailable)
		if err == nil || !transient || ctx.Err() != nil || m.srcMissing(err) {
			return err
		}
		telemetry.Logger(ctx).WarnContext(ctx, "blob copy failed, copying it again",
			"digest", d, "attempt", attempt, "error", err)
	}
	return err
}

// copyContent streams blob d from the source driver into the target blob
// store, which verifies its digest and size before it commits it.
func (m *Migrator) copyContent(ctx context.Context, d digest.Digest, size int64) error {
	key, err := m.sourceKey(ctx, d)
	if err != nil {
		return err
	}
	rc, err := m.srcDriver.Reader(ctx, key, 0)
	if errors.Is(err, storage.ErrNotFound) {
		return &sourceMissingError{digest: d, err: err}
	}
	if err != nil {
		return fmt.Errorf("copy blob %s: open source content: %w", d, err)
	}
	defer rc.Close()
	// The target keeps its blobs under their content keys, so the rows
	// that the run writes there need no location.
	n, _, err := m.dstBlobs.Put(ctx, d, rc, size)
	if errors.Is(err, storage.ErrNotFound) && m.committed(ctx, d, size) {
		// A move retried after its first try succeeded reports its upload
		// key missing, yet the verified blob is in place.
		n, err = size, nil
	}
	if err != nil {
		return fmt.Errorf("copy blob %s: %w", d, err)
	}
	atomic.AddInt64(&m.report.BlobsCopied, 1)
	atomic.AddInt64(&m.report.BytesCopied, n)
	return nil
}

// sourceKey returns the storage key of blob d's content in the source: the
// location in its row, or its content key.
func (m *Migrator) sourceKey(ctx context.Context, d digest.Digest) (string, error) {
	row, err := m.src.GetBlob(ctx, d)
	if errors.Is(err, metadata.ErrNotFound) || (err == nil && (row.Location == "" || row.Quarantined())) {
		return blob.Key(d), nil
	}
	if err != nil {
		return "", fmt.Errorf("copy blob %s: look up its source location: %w", d, err)
	}
	return row.Location, nil
}

// committed reports whether the target storage has blob d at the given
// size. The target blob store writes a blob's key only with verified
// content, so that content is d.
func (m *Migrator) committed(ctx context.Context, d digest.Digest, size int64) bool {
	stored, err := m.dstBlobs.Stat(ctx, d)
	return err == nil && stored == size
}

// parallel calls fn for every item with at most workers calls at once and
// returns the first error. After an error it starts no new calls.
func parallel[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, item := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, item); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// sourceMissingError reports a blob that the source metadata records and
// the source storage does not have. Copying it again cannot help.
type sourceMissingError struct {
	digest digest.Digest
	err    error
}

func (e *sourceMissingError) Error() string {
	return fmt.Sprintf("copy blob %s: the source metadata records it, but the source storage has no content for it: %v", e.digest, e.err)
}

func (e *sourceMissingError) Unwrap() error { return e.err }

// srcMissing reports whether err is a *sourceMissingError.
func (m *Migrator) srcMissing(err error) bool {
	var missing *sourceMissingError
	return errors.As(err, &missing)
}
