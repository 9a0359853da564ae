package gc_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
)

func TestReferencedBlobSurvives(t *testing.T) {
	f := newFixture(t, gc.Options{})
	layer := f.pushBlob("app", "layer")
	f.put(manifest("app", "v1", "", layer.Digest), "v1")

	f.clock.Advance(48 * time.Hour)
	report := f.run(false)

	if len(report.DeletedBlobs) != 0 || len(report.UnlinkedBlobs) != 0 {
		t.Errorf("report = %+v, want no blobs collected", report)
	}
	f.wantBlob("referenced", layer.Digest, true)
	if !f.linked("app", layer.Digest) {
		t.Errorf("referenced blob lost its link")
	}
}

func TestUnreferencedBlobWaitsForGracePeriod(t *testing.T) {
	f := newFixture(t, gc.Options{})
	layer := f.pushBlob("app", "pushed, never referenced")

	f.clock.Advance(grace - time.Minute)
	report := f.run(false)
	if len(report.UnlinkedBlobs) != 0 || len(report.DeletedBlobs) != 0 {
		t.Fatalf("within the grace period: report = %+v, want nothing collected", report)
	}
	if !f.linked("app", layer.Digest) {
		t.Fatalf("within the grace period the blob lost its link")
	}

	f.clock.Advance(24 * time.Hour)
	report = f.run(false)
	if want := []string{string(layer.Digest)}; !slices.Equal(digestNames(report.UnlinkedBlobs), want) {
		t.Errorf("first run after the grace period unlinked %q, want %q", report.UnlinkedBlobs, want)
	}
	if len(report.DeletedBlobs) != 0 {
		t.Errorf("first run after the grace period deleted %q, want nothing", itemNames(report.DeletedBlobs))
	}
	if f.linked("app", layer.Digest) {
		t.Errorf("blob still linked after the first run")
	}
	f.wantBlob("unlinked", layer.Digest, true)

	// The fake clock is a day past the restarted grace period already.
	report = f.run(false)
	want := []gc.Item{{Name: string(layer.Digest), Bytes: layer.Size}}
	if !slices.Equal(report.DeletedBlobs, want) {
		t.Errorf("second run deleted %+v, want %+v", report.DeletedBlobs, want)
	}
	if report.FreedBytes() != layer.Size {
		t.Errorf("FreedBytes = %d, want %d", report.FreedBytes(), layer.Size)
	}
	f.wantBlob("collected", layer.Digest, false)
}

func TestDeletedObjectBlobIsCollected(t *testing.T) {
	f := newFixture(t, gc.Options{})
	if err := f.objects.CreateBucket(f.ctx, "files", ""); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	o := f.putObject("files", "report.txt", "object content")
	if err := f.objects.DeleteObject(f.ctx, "files", "report.txt"); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}

	f.clock.Advance(24 * time.Hour)
	report := f.run(false)
	// An object's blob has no repository links, so one run deletes it.
	want := []gc.Item{{Name: string(o.Blob), Bytes: o.Size}}
	if !slices.Equal(report.DeletedBlobs, want) {
		t.Errorf("deleted %+v, want %+v", report.DeletedBlobs, want)
	}
	f.wantBlob("deleted object's", o.Blob, false)
}

func TestReferencedAgainBlobIsKept(t *testing.T) {
	f := newFixture(t, gc.Options{})
	layer := f.pushBlob("app", "layer")
	first := f.put(manifest("app", "first", "", layer.Digest))
	if err := f.meta.DeleteManifest(f.ctx, "app", first.Digest); err != nil {
		t.Fatalf("DeleteManifest: %v", err)
	}
	f.clock.Advance(24 * time.Hour)

	// The count went to zero a day ago on the fake clock; a new manifest
	// references the blob before the collector runs.
	f.put(manifest("app", "second", "", layer.Digest), "v2")
	report := f.run(false)
	if len(report.UnlinkedBlobs) != 0 || len(report.DeletedBlobs) != 0 {
		t.Errorf("report = %+v, want nothing collected", report)
	}
	f.wantBlob("referenced again", layer.Digest, true)
	if !f.linked("app", layer.Digest) {
		t.Errorf("blob referenced again lost its link")
	}
}

func TestDeletedBlobCanBePushedAgain(t *testing.T) {
	f := newFixture(t, gc.Options{})
	layer := f.pushBlob("app", "layer")
	f.clock.Advance(24 * time.Hour)
	f.run(false)
	f.run(false)
	f.wantBlob("collected", layer.Digest, false)

	f.pushBlob("app", "layer")
	f.put(manifest("app", "v1", "", layer.Digest), "v1")
	f.wantBlob("pushed again", layer.Digest, true)
	f.readBlob(layer, "layer")
}

// TestConcurrentCollectionAndPush runs the collector in a loop while eight
// writers push manifests that reference blobs the collector is about to
// take, and delete manifests so that blobs become unreferenced. A push
// either wins, and its blobs stay, or fails with a missing reference.
func TestConcurrentCollectionAndPush(t *testing.T) {
	const (
		writers    = 8
		iterations = 40
		poolSize   = 24
	)
	f := newFixture(t, gc.Options{})
	pool := make([]metadata.Blob, poolSize)
	for i := range pool {
		pool[i] = f.pushBlob("app", fmt.Sprintf("pooled layer %d", i))
	}
	// Every pooled blob is now unreferenced for longer than the grace
	// period, and so is every blob the writers release.
	f.clock.Advance(24 * time.Hour)

	var (
		mu     sync.Mutex
		stored = map[digest.Digest]*metadata.Manifest{}
		errs   = make(chan error, writers+1)
		done   = make(chan struct{})
		wg     sync.WaitGroup
		runs   int
	)
	collector := f.collector()
	go func() {
		defer close(errs)
		for {
			select {
			case <-done:
				return
			default:
			}
			report, err := collector.Run(f.ctx, false)
			if err == nil && report.Failures > 0 {
				err = fmt.Errorf("collector counted %d failures", report.Failures)
			}
			if err != nil {
				errs <- err
				return
			}
			runs++
		}
	}()

	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				layers := []digest.Digest{pool[(w*7+i)%poolSize].Digest, pool[(w*3+i*5)%poolSize].Digest}
				m := manifest("app", fmt.Sprintf("writer %d manifest %d", w, i), "", layers...)
				err := f.meta.PutManifest(f.ctx, m, fmt.Sprintf("w%d-%d", w, i))
				var missing *metadata.MissingReferenceError
				switch {
				case errors.As(err, &missing):
					continue
				case err != nil:
					errs <- err
					return
				}
				mu.Lock()
				stored[m.Digest] = m
				mu.Unlock()
				if i%3 == 0 {
					if err := f.meta.DeleteManifest(f.ctx, "app", m.Digest); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					delete(stored, m.Digest)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	for err := range errs {
		t.Fatalf("concurrent run: %v", err)
	}

	t.Logf("%d manifests remain after %d collector runs", len(stored), runs)
	for _, m := range stored {
		if !f.hasManifest("app", m.Digest) {
			t.Errorf("manifest %s is gone", m.Digest)
			continue
		}
		for _, d := range m.Blobs {
			row, content, link := f.hasRow(d), f.hasKey(blobKey(d)), f.linked("app", d)
			if !row || !content || !link {
				t.Errorf("manifest %s references blob %s, whose row (%t), content (%t) or link (%t) is missing",
					m.Digest, d, row, content, link)
			}
		}
	}
}
