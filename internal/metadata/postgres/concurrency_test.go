package postgres

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// The tests below let several goroutines, each with its own pooled
// connection, write the same rows at once. Which writer wins each race
// varies from run to run, so they check invariants that hold for every
// interleaving: reference counts equal the references that remain, and
// every replaced or deleted row is reported exactly once.

const writers = 8

func TestConcurrentObjectWritesKeepCountsExact(t *testing.T) {
	const rounds = 40
	ctx := t.Context()
	s := openTest(t)
	if err := s.CreateBucket(ctx, metadata.Bucket{Name: "busy", Region: "us-east-1"}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	contents := []string{"shared one", "shared two", "shared three"}
	keys := []string{"k0", "k1", "k2", "k3"}

	// Each PutObject stores an object with its own ETag. In the end each
	// ETag must be either still stored, or reported exactly once as
	// replaced by a PutObject or returned by a DeleteObject.
	var (
		mu      sync.Mutex
		put     []string
		removed []string
		errs    []error
	)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				key := keys[(w+i)%len(keys)]
				if (w+i)%3 == 2 {
					deleted, err := s.DeleteObject(ctx, "busy", key)
					mu.Lock()
					if err == nil {
						removed = append(removed, deleted.ETag)
					} else if !errors.Is(err, metadata.ErrNotFound) {
						errs = append(errs, fmt.Errorf("DeleteObject(%s): %w", key, err))
					}
					mu.Unlock()
					continue
				}
				o := object("busy", key, contents[(w*i)%len(contents)])
				o.ETag = fmt.Sprintf("writer-%d-round-%d", w, i)
				replaced, err := s.PutObject(ctx, o, metadata.Precondition{})
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("PutObject(%s): %w", key, err))
				} else {
					put = append(put, o.ETag)
					if replaced != nil {
						removed = append(removed, replaced.ETag)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	stored, err := s.ListObjects(ctx, "busy", "", "", 0)
	if err != nil {
		t.Fatalf("ListObjects: %v", err)
	}
	accounted := slices.Clone(removed)
	want := map[digest.Digest]int64{}
	for _, c := range contents {
		want[digest.SHA256.FromBytes([]byte(c))] = 0
	}
	for _, o := range stored {
		accounted = append(accounted, o.ETag)
		want[o.Blob]++
	}
	slices.Sort(accounted)
	slices.Sort(put)
	if !slices.Equal(accounted, put) {
		t.Errorf("stored plus removed ETags =\n%q\nwant each stored ETag once:\n%q", accounted, put)
	}
	for d, n := range want {
		got, err := s.BlobReferences(ctx, d)
		if err != nil {
			t.Fatalf("BlobReferences(%s): %v", d, err)
		}
		if got != n {
			t.Errorf("BlobReferences(%s) = %d, want %d, the number of stored objects with that content", d, got, n)
		}
	}
}

func TestConcurrentPutPartReportsEveryReplacedPart(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	if err := s.CreateBucket(ctx, metadata.Bucket{Name: "media", Region: "us-east-1"}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if err := s.CreateMultipartUpload(ctx, metadata.MultipartUpload{ID: "upload-1", Bucket: "media", Key: "big.bin"}); err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}

	put := make([]string, writers)
	replaced := make([]*metadata.Part, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		put[w] = fmt.Sprintf("parts/writer-%d", w)
		wg.Go(func() {
			p := metadata.Part{UploadID: "upload-1", Number: 1, Size: 5, ETag: "etag", StorageKey: put[w]}
			replaced[w], errs[w] = s.PutPart(ctx, p)
		})
	}
	wg.Wait()

	var accounted []string
	for w, err := range errs {
		if err != nil {
			t.Errorf("PutPart from writer %d: %v", w, err)
		}
		if replaced[w] != nil {
			accounted = append(accounted, replaced[w].StorageKey)
		}
	}
	parts, err := s.ListParts(ctx, "upload-1", 0, 0)
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if len(parts) != 1 {
		t.Fatalf("ListParts returned %d parts, want 1", len(parts))
	}
	accounted = append(accounted, parts[0].StorageKey)
	slices.Sort(accounted)
	if !slices.Equal(accounted, put) {
		t.Errorf("stored plus replaced parts =\n%q\nwant each part once:\n%q", accounted, put)
	}
}

func TestConcurrentManifestPutAndDelete(t *testing.T) {
	const rounds = 30
	ctx := t.Context()
	s := openTest(t)
	layer := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte("shared layer")), Size: 12}
	if err := s.LinkBlob(ctx, "busy", layer); err != nil {
		t.Fatalf("LinkBlob: %v", err)
	}
	manifests := make([]*metadata.Manifest, 3)
	for i := range manifests {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"layers":[%q],"n":%d}`, layer.Digest, i)
		manifests[i] = &metadata.Manifest{
			Repository: "busy",
			Digest:     digest.SHA256.FromBytes(content),
			MediaType:  "application/vnd.oci.image.manifest.v1+json",
			Content:    content,
			Blobs:      []digest.Digest{layer.Digest},
		}
	}

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				m := manifests[(w+i)%len(manifests)]
				var err error
				if (w*i)%2 == 0 {
					err = s.PutManifest(ctx, m, fmt.Sprintf("w%d", w))
				} else if err = s.DeleteManifest(ctx, "busy", m.Digest); errors.Is(err, metadata.ErrNotFound) {
					err = nil
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}

	var stored int64
	for _, m := range manifests {
		_, err := s.GetManifest(ctx, "busy", m.Digest)
		switch {
		case err == nil:
			stored++
		case !errors.Is(err, metadata.ErrNotFound):
			t.Fatalf("GetManifest(%s): %v", m.Digest, err)
		}
	}
	got, err := s.BlobReferences(ctx, layer.Digest)
	if err != nil {
		t.Fatalf("BlobReferences: %v", err)
	}
	if got != stored {
		t.Errorf("BlobReferences(layer) = %d, want %d, the number of stored manifests", got, stored)
	}
}

// object returns a single-PUT object of bucket with the given content.
func object(bucket, key, content string) *metadata.Object {
	return &metadata.Object{
		Bucket:      bucket,
		Key:         key,
		Blob:        digest.SHA256.FromBytes([]byte(content)),
		Size:        int64(len(content)),
		ETag:        "etag",
		ContentType: "text/plain",
	}
}
