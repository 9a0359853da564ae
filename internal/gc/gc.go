// Package gc reclaims storage that nothing references any more, while the
// server keeps serving, and checks stored blobs for corruption.
//
// A Collector run goes through these steps, in this order:
//
//  1. Unreferenced blobs. A blob whose reference count has been zero for
//     longer than the grace period first loses its repository links. That
//     hides it from pulls and mounts and restarts its grace period. A later
//     run, once the blob has been unlinked and unreferenced for a whole
//     grace period, deletes its metadata row and then its content.
//  2. Orphan blob keys: content under blobs/ without a metadata row, older
//     than the grace period, as a crash between a commit and its metadata
//     write leaves behind.
//  3. Upload sessions not updated for longer than the upload expiry, with
//     their bytes.
//  4. Orphan upload keys: bytes under uploads/ that no upload session or
//     multipart part records, older than the grace period.
//  5. S3 multipart uploads older than the multipart expiry.
//  6. Referrers whose subject is gone (with the referrers policy
//     delete-with-subject).
//  7. Untagged manifests older than the configured age (with the untagged
//     policy delete-after).
//
// Each step lists its candidates, then deletes each one in a metadata
// transaction that checks again that it still qualifies, so a concurrent
// push either keeps a candidate alive or fails cleanly. Blobs come first, so
// the blobs that steps 6 and 7 release wait for a grace period of their
// own, and steps 6 and 7 list all their candidates before deleting any, so
// a deletion never makes a new candidate within the same run. That keeps a
// dry run's report equal to what a real run at the same moment removes.
package gc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// pageSize is how many rows or keys one metadata query handles.
const pageSize = 500

// Metadata is the part of the metadata store that the collector uses.
type Metadata interface {
	metadata.Collection
	metadata.Uploads
	metadata.Multipart
	GetBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error)
}

// Options configures a Collector.
type Options struct {
	// GracePeriod is how long a blob stays after nothing references it,
	// and how old an orphan key must be before it is deleted.
	GracePeriod time.Duration
	// UploadExpiry is how long an upload session may go without a new
	// chunk before it is cancelled.
	UploadExpiry time.Duration
	// MultipartExpiry is the age after which an S3 multipart upload is
	// aborted.
	MultipartExpiry time.Duration
	// UntaggedAge, when positive, deletes manifests older than it that no
	// tag or index references and that are not referrers of a live
	// subject. Zero keeps them.
	UntaggedAge time.Duration
	// DeleteOrphanReferrers deletes referrers whose subject is gone once
	// they are older than the grace period.
	DeleteOrphanReferrers bool
	// Now returns the current time, or is nil for time.Now.
	Now func() time.Time
}

// Collector runs garbage collection over one metadata store and one blob
// store. It is safe to run while the server serves the same stores, from
// the server's process or from another one, but two runs at once only
// duplicate work.
type Collector struct {
	meta    Metadata
	blobs   *blob.Store
	objects *objects.Store
	opts    Options
}

// NewCollector returns a Collector. objectStore aborts stale multipart
// uploads and may share meta and blobs with the server.
func NewCollector(meta Metadata, blobs *blob.Store, objectStore *objects.Store, opts Options) *Collector {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Collector{meta: meta, blobs: blobs, objects: objectStore, opts: opts}
}

// Report lists what a run removed, or with DryRun what it would remove.
type Report struct {
	DryRun  bool
	Started time.Time
	// DeletedBlobs are blobs whose metadata row went, with the bytes of
	// content deleted (0 when the content was missing or recently written).
	DeletedBlobs []Item
	// UnlinkedBlobs are blobs whose repository links went. A later run
	// deletes them.
	UnlinkedBlobs []digest.Digest
	// OrphanKeys are storage keys deleted because no metadata records them.
	OrphanKeys []Item
	// ExpiredUploads are cancelled upload sessions, named by ID, with the
	// size of their bytes.
	ExpiredUploads []Item
	// ExpiredMultipart are aborted S3 multipart uploads, named by ID, with
	// the size of their parts.
	ExpiredMultipart []Item
	// DeletedManifests are the manifests deleted by the referrers and
	// untagged policies.
	DeletedManifests []DeletedManifest
	// Skipped counts candidates that a concurrent request changed between
	// the listing and the deletion, and that therefore stayed.
	Skipped int
	// Failures counts candidates that could not be removed because of an
	// error. Each one is logged.
	Failures int
}

// Item is one removed thing and the bytes of storage it took.
type Item struct {
	Name  string
	Bytes int64
}

// DeletedManifest is a manifest that a policy deleted.
type DeletedManifest struct {
	metadata.ManifestRef
	// Reason is "orphan referrer" or "untagged".
	Reason string
}

// FreedBytes returns the bytes of storage the run freed.
func (r *Report) FreedBytes() int64 {
	var total int64
	for _, items := range [][]Item{r.DeletedBlobs, r.OrphanKeys, r.ExpiredUploads, r.ExpiredMultipart} {
		for _, item := range items {
			total += item.Bytes
		}
	}
	return total
}

// run is the state of one collection run.
type run struct {
	*Collector
	report *Report
	// now is when the run started.
	now time.Time
	// cutoff is the start of the grace period: things that became garbage
	// before it may go.
	cutoff time.Time
	logger *slog.Logger
}

// Run collects garbage once. With dryRun it changes nothing and reports
// what a run would remove. A failed listing stops the run and is returned.
// A failure on a single candidate is counted in the report and logged, and
// the run goes on.
func (c *Collector) Run(ctx context.Context, dryRun bool) (*Report, error) {
	now := c.opts.Now()
	r := &run{
		Collector: c,
		report:    &Report{DryRun: dryRun, Started: now},
		now:       now,
		cutoff:    now.Add(-c.opts.GracePeriod),
		logger:    telemetry.Logger(ctx).With("dry_run", dryRun),
	}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"unreferenced blobs", r.collectBlobs},
		{"orphan blob keys", r.sweepBlobKeys},
		{"orphan checksum keys", r.sweepChecksumKeys},
		{"expired upload sessions", r.expireSessions},
		{"orphan upload keys", r.sweepUploadKeys},
		{"expired multipart uploads", r.expireMultipart},
		{"orphan referrers", r.deleteOrphanReferrers},
		{"untagged manifests", r.deleteUntagged},
	}
	for _, step := range steps {
		if err := step.run(ctx); err != nil {
			return r.report, fmt.Errorf("garbage collection step %s: %w", step.name, err)
		}
	}
	return r.report, nil
}

// fail records a failure on one candidate.
func (r *run) fail(msg string, err error, args ...any) {
	r.report.Failures++
	r.logger.Error(msg, append(args, "error", err)...)
}

// changed reports whether err means that a candidate no longer qualifies,
// and counts such a candidate as skipped.
func (r *run) changed(err error) bool {
	if errors.Is(err, metadata.ErrConflict) || errors.Is(err, metadata.ErrNotFound) {
		r.report.Skipped++
		return true
	}
	return false
}
