package gc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

const (
	grace           = time.Hour
	uploadExpiry    = 72 * time.Hour
	multipartExpiry = 120 * time.Hour
	imageMediaType  = "application/vnd.oci.image.manifest.v1+json"
	indexMediaType  = "application/vnd.oci.image.index.v1+json"
)

// clock is a fake clock for the collector. The store and the storage driver
// stamp their records with the real clock, so the fake one starts at the
// real time and moves only forward: after Advance(d) the collector treats
// every record as at least d old, however long the test ran.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a blob store on the memory driver and a SQLite metadata store,
// with a collector on a fake clock.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	meta    *sqlite.Store
	driver  *memory.Driver
	blobs   *blob.Store
	objects *objects.Store
	clock   *clock
	opts    gc.Options
}

// newFixture returns an empty fixture whose collector uses opts; a zero
// GracePeriod, UploadExpiry or MultipartExpiry gets the test default.
func newFixture(t *testing.T, opts gc.Options) *fixture {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { meta.Close() })

	driver := memory.New()
	blobs := blob.New(driver, meta)
	f := &fixture{
		t: t, ctx: t.Context(), meta: meta, driver: driver, blobs: blobs,
		objects: objects.New(meta, blobs, "us-east-1"),
		clock:   newClock(),
	}
	if opts.GracePeriod == 0 {
		opts.GracePeriod = grace
	}
	if opts.UploadExpiry == 0 {
		opts.UploadExpiry = uploadExpiry
	}
	if opts.MultipartExpiry == 0 {
		opts.MultipartExpiry = multipartExpiry
	}
	opts.Now = f.clock.Now
	f.opts = opts
	return f
}

// collector returns a collector over the fixture's stores.
func (f *fixture) collector() *gc.Collector {
	return gc.NewCollector(f.meta, f.blobs, f.objects, f.opts)
}

// run runs the collector once and fails the test on error or on a failed
// candidate.
func (f *fixture) run(dryRun bool) *gc.Report {
	f.t.Helper()
	report, err := f.collector().Run(f.ctx, dryRun)
	if err != nil {
		f.t.Fatalf("Run(dryRun %t): %v", dryRun, err)
	}
	if report.Failures != 0 {
		f.t.Fatalf("Run(dryRun %t) counted %d failures", dryRun, report.Failures)
	}
	return report
}

// pushBlob stores content and links it to repo, as a blob push does.
func (f *fixture) pushBlob(repo, content string) metadata.Blob {
	f.t.Helper()
	d := digest.SHA256.FromBytes([]byte(content))
	size, location, err := f.blobs.Put(f.ctx, d, strings.NewReader(content), int64(len(content)))
	if err != nil {
		f.t.Fatalf("put blob %q: %v", content, err)
	}
	b := metadata.Blob{Digest: d, Size: size, Location: location}
	if err := f.meta.LinkBlob(f.ctx, repo, b); err != nil {
		f.t.Fatalf("link blob %q: %v", content, err)
	}
	f.blobs.Settle(f.ctx, d, location)
	return b
}

// manifest builds an image manifest in repo that lists blobs, with an
// optional subject.
func manifest(repo, name string, subject digest.Digest, blobs ...digest.Digest) *metadata.Manifest {
	content, _ := json.Marshal(map[string]any{"mediaType": imageMediaType, "name": name, "blobs": blobs, "subject": subject})
	return &metadata.Manifest{
		Repository: repo,
		Digest:     digest.SHA256.FromBytes(content),
		MediaType:  imageMediaType,
		Content:    content,
		Subject:    subject,
		Blobs:      blobs,
	}
}

// indexManifest builds an image index in repo that lists children.
func indexManifest(repo, name string, children ...digest.Digest) *metadata.Manifest {
	content, _ := json.Marshal(map[string]any{"mediaType": indexMediaType, "name": name, "manifests": children})
	return &metadata.Manifest{
		Repository: repo,
		Digest:     digest.SHA256.FromBytes(content),
		MediaType:  indexMediaType,
		Content:    content,
		Children:   children,
	}
}

// put stores m with tags and fails the test on error.
func (f *fixture) put(m *metadata.Manifest, tags ...string) *metadata.Manifest {
	f.t.Helper()
	if err := f.meta.PutManifest(f.ctx, m, tags...); err != nil {
		f.t.Fatalf("PutManifest(%s): %v", m.Digest, err)
	}
	return m
}

// hasManifest reports whether repo stores manifest d.
func (f *fixture) hasManifest(repo string, d digest.Digest) bool {
	f.t.Helper()
	_, err := f.meta.GetManifest(f.ctx, repo, d)
	if err != nil && !errors.Is(err, metadata.ErrNotFound) {
		f.t.Fatalf("GetManifest(%s): %v", d, err)
	}
	return err == nil
}

// wantManifest checks whether repo stores manifest m.
func (f *fixture) wantManifest(what string, m *metadata.Manifest, want bool) {
	f.t.Helper()
	if got := f.hasManifest(m.Repository, m.Digest); got != want {
		f.t.Errorf("%s manifest stored: %t, want %t", what, got, want)
	}
}

// hasRow reports whether blob d has a metadata row.
func (f *fixture) hasRow(d digest.Digest) bool {
	f.t.Helper()
	found, err := f.meta.FindBlobs(f.ctx, []digest.Digest{d})
	if err != nil {
		f.t.Fatalf("FindBlobs: %v", err)
	}
	return len(found) == 1
}

// hasKey reports whether the storage driver holds key.
func (f *fixture) hasKey(key string) bool {
	f.t.Helper()
	_, err := f.driver.Stat(f.ctx, key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		f.t.Fatalf("Stat(%s): %v", key, err)
	}
	return err == nil
}

// wantBlob checks whether blob d has its row and its content.
func (f *fixture) wantBlob(what string, d digest.Digest, want bool) {
	f.t.Helper()
	if got := f.hasRow(d); got != want {
		f.t.Errorf("%s blob row present: %t, want %t", what, got, want)
	}
	if got := f.hasKey(blob.Key(d)); got != want {
		f.t.Errorf("%s blob content present: %t, want %t", what, got, want)
	}
}

// linked reports whether blob d is linked to repo.
func (f *fixture) linked(repo string, d digest.Digest) bool {
	f.t.Helper()
	_, err := f.meta.LookupBlob(f.ctx, repo, d)
	if err != nil && !errors.Is(err, metadata.ErrNotFound) {
		f.t.Fatalf("LookupBlob: %v", err)
	}
	return err == nil
}

// writeKey stores content under key directly, as a crash would leave it.
func (f *fixture) writeKey(key, content string) {
	f.t.Helper()
	w, err := f.driver.Writer(f.ctx, key, 0)
	if err != nil {
		f.t.Fatalf("Writer(%s): %v", key, err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		f.t.Fatalf("write %s: %v", key, err)
	}
	if err := w.Commit(f.ctx); err != nil {
		f.t.Fatalf("commit %s: %v", key, err)
	}
}

// itemNames returns the names of items.
func itemNames(items []gc.Item) []string {
	names := make([]string, len(items))
	for i, item := range items {
		names[i] = item.Name
	}
	return names
}

// digestNames returns the digests as strings.
func digestNames(ds []digest.Digest) []string {
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d)
	}
	return names
}

// putObject stores content as an object and fails the test on error.
func (f *fixture) putObject(bucket, key, content string) *metadata.Object {
	f.t.Helper()
	o, err := f.objects.PutObject(f.ctx, objects.PutInput{
		Bucket: bucket, Key: key, Body: strings.NewReader(content), Size: int64(len(content)),
	})
	if err != nil {
		f.t.Fatalf("PutObject(%s/%s): %v", bucket, key, err)
	}
	return o
}

// readBlob reads b through the blob store and checks its content.
func (f *fixture) readBlob(b metadata.Blob, want string) {
	f.t.Helper()
	rc, err := f.blobs.Open(f.ctx, b.Digest, b.Size, 0, b.Size)
	if err != nil {
		f.t.Fatalf("Open(%s): %v", b.Digest, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		f.t.Fatalf("read %s: %v", b.Digest, err)
	}
	if string(got) != want {
		f.t.Errorf("blob %s = %q, want %q", b.Digest, got, want)
	}
}

// blobKey returns the storage key of blob d's content.
func blobKey(d digest.Digest) string { return blob.Key(d) }
