package gc_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
)

// scrub runs a scrubber without a rate limit and fails the test on error.
func (f *fixture) scrub() *gc.ScrubReport {
	f.t.Helper()
	report, err := gc.NewScrubber(f.meta, f.driver, gc.ScrubOptions{}).Run(f.ctx)
	if err != nil {
		f.t.Fatalf("scrub: %v", err)
	}
	if report.Failures != 0 {
		f.t.Fatalf("scrub counted %d failures", report.Failures)
	}
	return report
}

// flipByte changes one byte of the stored content of d.
func (f *fixture) flipByte(d digest.Digest, offset int) string {
	f.t.Helper()
	key := f.contentKey(d)
	rc, err := f.driver.Reader(f.ctx, key, 0)
	if err != nil {
		f.t.Fatalf("Reader: %v", err)
	}
	content, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		f.t.Fatalf("read %s: %v", d, err)
	}
	content[offset] ^= 0x01
	f.writeKey(key, string(content))
	return string(content)
}

func TestScrubCleanStore(t *testing.T) {
	f := newFixture(t, gc.Options{})
	a := f.pushBlob("app", "first layer")
	b := f.pushBlob("app", "second layer")

	report := f.scrub()
	if report.Damaged() || report.Blobs != 2 || report.Bytes != a.Size+b.Size {
		t.Errorf("scrub = %+v, want 2 blobs of %d bytes and no damage", report, a.Size+b.Size)
	}
}

// contentKey returns the storage key of blob d's content, from its row.
func (f *fixture) contentKey(d digest.Digest) string {
	f.t.Helper()
	row, err := f.meta.GetBlob(f.ctx, d)
	if err != nil {
		f.t.Fatalf("GetBlob(%s): %v", d, err)
	}
	if row.Location == "" {
		return blob.Key(d)
	}
	return row.Location
}

// TestScrubQuarantinesFlippedByte runs with blobs under their content keys
// and with uploads kept in place, as on S3.
func TestScrubQuarantinesFlippedByte(t *testing.T) {
	t.Run("content keys", func(t *testing.T) { testScrubQuarantinesFlippedByte(t, false) })
	t.Run("in place", func(t *testing.T) { testScrubQuarantinesFlippedByte(t, true) })
}

func testScrubQuarantinesFlippedByte(t *testing.T, inPlace bool) {
	f := newFixture(t, gc.Options{})
	if inPlace {
		f.blobs.KeepUploadsInPlace(f.meta)
	}
	good := f.pushBlob("app", "a layer that stays intact")
	bad := f.pushBlob("app", "a layer that a disk damages")
	f.put(manifest("app", "v1", "", good.Digest, bad.Digest), "v1")
	damaged := f.flipByte(bad.Digest, 3)

	report := f.scrub()
	want := []gc.Corruption{{
		Digest:        bad.Digest,
		Size:          bad.Size,
		Actual:        digest.SHA256.FromBytes([]byte(damaged)),
		ActualSize:    bad.Size,
		QuarantineKey: gc.QuarantineKey(bad.Digest),
	}}
	if !slices.Equal(report.Corrupt, want) {
		t.Errorf("corrupt = %+v, want %+v", report.Corrupt, want)
	}
	if !report.Damaged() || report.Blobs != 2 || len(report.Missing) != 0 {
		t.Errorf("scrub = %+v, want 2 blobs checked, damaged, nothing missing", report)
	}
	if want := "quarantine/sha256/" + bad.Digest.Encoded(); gc.QuarantineKey(bad.Digest) != want {
		t.Errorf("QuarantineKey = %s, want %s", gc.QuarantineKey(bad.Digest), want)
	}

	// Reads fail instead of serving the damaged bytes, and the row stays.
	_, err := f.blobs.Open(f.ctx, bad.Digest, bad.Size, 0, bad.Size)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open of a quarantined blob: error = %v, want blob.ErrNotFound", err)
	}
	if !f.hasRow(bad.Digest) || !f.linked("app", bad.Digest) {
		t.Errorf("quarantined blob lost its row or link")
	}
	if !f.hasKey(gc.QuarantineKey(bad.Digest)) {
		t.Errorf("quarantine key %s is missing", gc.QuarantineKey(bad.Digest))
	}
	f.readBlob(good, "a layer that stays intact")

	// Until the blob is pushed again, a scrub reports it missing.
	report = f.scrub()
	wantMissing := []gc.MissingBlob{{Digest: bad.Digest, Quarantined: true}}
	if !slices.Equal(report.Missing, wantMissing) || len(report.Corrupt) != 0 {
		t.Errorf("second scrub = %+v, want only %+v missing", report, wantMissing)
	}

	if row, err := f.meta.GetBlob(f.ctx, bad.Digest); err != nil || !row.Quarantined() {
		t.Errorf("row of the quarantined blob = %+v, %v; want it quarantined", row, err)
	}
	f.pushBlob("app", "a layer that a disk damages")
	f.readBlob(bad, "a layer that a disk damages")
	if row, err := f.meta.GetBlob(f.ctx, bad.Digest); err != nil || row.Quarantined() {
		t.Errorf("row of the blob pushed again = %+v, %v; want it repaired", row, err)
	}
	if report := f.scrub(); report.Damaged() {
		t.Errorf("scrub after the push = %+v, want no damage", report)
	}
}

func TestScrubReportsMissingContent(t *testing.T) {
	f := newFixture(t, gc.Options{})
	lost := f.pushBlob("app", "lost layer")
	if err := f.driver.Delete(f.ctx, blob.Key(lost.Digest)); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	report := f.scrub()
	want := []gc.MissingBlob{{Digest: lost.Digest}}
	if !slices.Equal(report.Missing, want) || !report.Damaged() {
		t.Errorf("scrub = %+v, want %+v missing", report, want)
	}
}

func TestScrubRateLimit(t *testing.T) {
	f := newFixture(t, gc.Options{})
	for _, content := range []string{"0123456789", "abcdefghijklmnopqrst", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"} {
		f.pushBlob("app", content)
	}

	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start
	var slept time.Duration
	opts := gc.ScrubOptions{
		BytesPerSecond: 10,
		Now:            func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			slept += d
			now = now.Add(d)
			return nil
		},
	}
	report, err := gc.NewScrubber(f.meta, f.driver, opts).Run(f.ctx)
	if err != nil {
		t.Fatalf("scrub: %v", err)
	}
	if report.Bytes != 60 {
		t.Fatalf("scrub read %d bytes, want 60", report.Bytes)
	}
	// 60 bytes at 10 bytes per second take 6 seconds.
	if slept != 6*time.Second {
		t.Errorf("scrub slept %v, want 6s", slept)
	}
}

func TestScrubStopsWhenContextEnds(t *testing.T) {
	f := newFixture(t, gc.Options{})
	f.pushBlob("app", "layer")
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	_, err := gc.NewScrubber(f.meta, f.driver, gc.ScrubOptions{}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("scrub with a cancelled context: error = %v, want context.Canceled", err)
	}
}
