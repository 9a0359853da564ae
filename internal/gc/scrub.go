package gc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// quarantinePrefix is the storage prefix of content that does not match
// its digest, as quarantine/<algorithm>/<hex>. Garbage collection never
// deletes keys below it.
const quarantinePrefix = "quarantine"

// QuarantineKey returns the storage key that corrupt content of blob d is
// moved to.
func QuarantineKey(d digest.Digest) string {
	return quarantinePrefix + "/" + string(d.Algorithm()) + "/" + d.Encoded()
}

// ScrubOptions configures a Scrubber.
type ScrubOptions struct {
	// BytesPerSecond caps the average read rate. With 0 or less the scrub
	// reads as fast as storage allows.
	BytesPerSecond int64
	// Now returns the current time, or is nil for time.Now.
	Now func() time.Time
	// Sleep waits for a duration or until ctx ends, or is nil for a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Scrubber re-hashes every stored blob and quarantines content that does
// not match its digest, so that reads fail instead of serving it. The blob's
// metadata row stays, so that a client can push the blob again: committing
// it stores a fresh copy under the blob's key.
type Scrubber struct {
	meta   metadata.Collection
	driver storage.Driver
	opts   ScrubOptions
}

// NewScrubber returns a Scrubber over the blob rows of meta and the content
// in driver.
func NewScrubber(meta metadata.Collection, driver storage.Driver, opts ScrubOptions) *Scrubber {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepContext
	}
	return &Scrubber{meta: meta, driver: driver, opts: opts}
}

// ScrubReport is the result of one scrub.
type ScrubReport struct {
	Started time.Time
	// Blobs counts the blobs whose content was read in full.
	Blobs int
	// Bytes counts the bytes read.
	Bytes int64
	// Corrupt lists the blobs whose content did not match.
	Corrupt []Corruption
	// Missing lists the blobs that have a metadata row but no content.
	Missing []MissingBlob
	// Failures counts blobs that could not be checked because of an error;
	// each one is logged.
	Failures int
}

// Damaged reports whether the scrub found corrupt or missing content.
func (r *ScrubReport) Damaged() bool { return len(r.Corrupt) > 0 || len(r.Missing) > 0 }

// Corruption describes content that does not match its blob's digest.
type Corruption struct {
	Digest digest.Digest // the expected digest, which names the blob
	Size   int64         // the size recorded for the blob
	// Actual and ActualSize describe the content that was read.
	Actual     digest.Digest
	ActualSize int64
	// QuarantineKey is the key the content was moved to. It is empty when
	// the move failed, which is also logged and counted as a failure.
	QuarantineKey string
}

// MissingBlob is a blob with a metadata row and no content.
type MissingBlob struct {
	Digest digest.Digest
	// Quarantined reports whether an earlier scrub moved its content to
	// quarantine.
	Quarantined bool
}

// scrub is the state of one scrub.
type scrub struct {
	*Scrubber
	report  *ScrubReport
	limiter *rateLimiter
	logger  *slog.Logger
	buffer  []byte
}

// scrubBuffers hold the read buffers of scrubs.
var scrubBuffers = sync.Pool{New: func() any {
	b := make([]byte, 1<<20)
	return &b
}}

// Run checks every blob once. A failed listing, or the end of ctx, stops
// the scrub and is returned. A failure on one blob is counted in the
// report and logged, and the scrub goes on.
func (s *Scrubber) Run(ctx context.Context) (*ScrubReport, error) {
	buffer := scrubBuffers.Get().(*[]byte)
	defer scrubBuffers.Put(buffer)
	sc := &scrub{
		Scrubber: s,
		report:   &ScrubReport{Started: s.opts.Now()},
		limiter:  &rateLimiter{bytesPerSecond: s.opts.BytesPerSecond, now: s.opts.Now, sleep: s.opts.Sleep},
		logger:   telemetry.Logger(ctx),
		buffer:   *buffer,
	}

	var cursor digest.Digest
	for {
		page, err := s.meta.ListBlobs(ctx, cursor, pageSize)
		if err != nil {
			return sc.report, fmt.Errorf("scrub: %w", err)
		}
		for _, b := range page {
			if err := sc.check(ctx, b, true); err != nil {
				return sc.report, fmt.Errorf("scrub: %w", err)
			}
		}
		if len(page) < pageSize {
			return sc.report, nil
		}
		cursor = page[len(page)-1].Digest
	}
}

// check reads and hashes the content of b and quarantines it on a
// mismatch. With retry, content that changed while it was read is read
// again once. It returns only the context's error, and counts other
// failures.
func (sc *scrub) check(ctx context.Context, b metadata.Blob, retry bool) error {
	if !b.Digest.Algorithm().Available() {
		sc.fail("blob digest has an unsupported algorithm", errors.New("cannot hash"), b.Digest)
		return nil
	}
	key, ok := contentKey(b.Digest, b.Location)
	if !ok {
		return sc.missing(ctx, b.Digest)
	}
	before, err := sc.driver.Stat(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return sc.missing(ctx, b.Digest)
	}
	if err != nil {
		return sc.failed(ctx, "stat blob content failed", err, b.Digest)
	}

	actual, size, err := sc.hash(ctx, key, b.Digest.Algorithm())
	if errors.Is(err, storage.ErrNotFound) {
		return sc.missing(ctx, b.Digest)
	}
	if err != nil {
		return sc.failed(ctx, "read blob content failed", err, b.Digest)
	}
	if retry {
		sc.report.Blobs++ // a second read of the same blob is not counted again
	}
	if actual == b.Digest && size == b.Size {
		return nil
	}

	// A push of the same blob moves a fresh copy over a damaged one, so a
	// copy that changed during the read is checked instead of quarantined.
	after, err := sc.driver.Stat(ctx, key)
	if err == nil && retry && (!after.ModTime.Equal(before.ModTime) || after.Size != before.Size) {
		return sc.check(ctx, b, false)
	}
	sc.quarantine(ctx, b, Corruption{Digest: b.Digest, Size: b.Size, Actual: actual, ActualSize: size})
	return nil
}

// hash reads key through the rate limiter and returns the digest of its
// content with algorithm a, and its size.
func (sc *scrub) hash(ctx context.Context, key string, a digest.Algorithm) (digest.Digest, int64, error) {
	rc, err := sc.driver.Reader(ctx, key, 0)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()

	h := a.New()
	var size int64
	for {
		n, readErr := rc.Read(sc.buffer)
		h.Write(sc.buffer[:n])
		size += int64(n)
		sc.report.Bytes += int64(n)
		if err := sc.limiter.wait(ctx, n); err != nil {
			return "", size, err
		}
		if errors.Is(readErr, io.EOF) {
			return a.FromHash(h), size, nil
		}
		if readErr != nil {
			return "", size, readErr
		}
	}
}

// quarantine moves corrupt content to its quarantine key and reports it.
func (sc *scrub) quarantine(ctx context.Context, b metadata.Blob, c Corruption) {
	target := QuarantineKey(c.Digest)
	key, _ := contentKey(b.Digest, b.Location)
	if err := sc.driver.Move(ctx, key, target); err != nil {
		sc.fail("move corrupt blob content to quarantine failed", err, c.Digest)
	} else if err := sc.meta.SetBlobLocation(ctx, b.Digest, b.Location, target); err != nil {
		// The content is in quarantine; reads of the blob fail as missing
		// until a push stores it again.
		sc.fail("record quarantined blob failed", err, c.Digest)
		c.QuarantineKey = target
	} else {
		c.QuarantineKey = target
	}
	sc.report.Corrupt = append(sc.report.Corrupt, c)
	sc.logger.Error("blob content does not match its digest", "digest", c.Digest, "size", c.Size,
		"actual_digest", c.Actual, "actual_size", c.ActualSize, "quarantine_key", c.QuarantineKey)
}

// missing reports a blob without content, unless its row has gone since it
// was listed, which garbage collection does.
func (sc *scrub) missing(ctx context.Context, d digest.Digest) error {
	found, err := sc.meta.FindBlobs(ctx, []digest.Digest{d})
	if err != nil {
		return sc.failed(ctx, "look up blob row failed", err, d)
	}
	if len(found) == 0 {
		return nil
	}
	_, err = sc.driver.Stat(ctx, QuarantineKey(d))
	quarantined := err == nil
	sc.report.Missing = append(sc.report.Missing, MissingBlob{Digest: d, Quarantined: quarantined})
	sc.logger.Error("blob content is missing", "digest", d, "quarantined", quarantined)
	return nil
}

// failed counts a failure on blob d, unless ctx has ended, in which case it
// returns ctx's error to stop the scrub.
func (sc *scrub) failed(ctx context.Context, msg string, err error, d digest.Digest) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	sc.fail(msg, err, d)
	return nil
}

// fail counts and logs a failure on blob d.
func (sc *scrub) fail(msg string, err error, d digest.Digest) {
	sc.report.Failures++
	sc.logger.Error(msg, "digest", d, "error", err)
}
