package migrate_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/metadata/postgres"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/migrate"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/filesystem"
	s3storage "github.com/cofferhq/coffer/internal/storage/s3"
)

// fullShape is the size of a large single node: 1,000 images and 10,000 objects.
var fullShape = shape{repositories: 10, imagesPerRepo: 100, layers: 40, buckets: 2, objectsPerBucket: 5000}

// TestMigrateToPostgresAndS3 migrates a single-node deployment into
// PostgreSQL and versitygw twice: once in one run, and once in a run
// cancelled part-way and then resumed. Both targets must end identical to
// the source, and a further run must find nothing left to copy.
func TestMigrateToPostgresAndS3(t *testing.T) {
	src := buildSource(t, fullShape)
	s3 := startVersityGW(t)

	t.Run("OneRun", func(t *testing.T) {
		to := targetConfig(newDatabase(t), s3, "one-run")
		keepUploadsFolder(t, to)
		report, err := server.Migrate(t.Context(), src.cfg, to, testLogger(t), migrate.Options{})
		if err != nil {
			t.Fatalf("migrate: %v", err)
		}
		src.wantFullReport(t, report)
		wantSame(t, src.opened(t), openTarget(t, to))
	})

	t.Run("InterruptedAndResumed", func(t *testing.T) {
		to := targetConfig(newDatabase(t), s3, "resumed")
		keepUploadsFolder(t, to)
		// Cancel once a little over half of the records are stored: the
		// blob links, manifests and tags come first, then the objects.
		stopAfter := (src.objects + src.manifests) / 2
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var stored atomic.Int64
		opts := migrate.Options{AfterItem: func(migrate.Item) {
			if stored.Add(1) == stopAfter {
				cancel()
			}
		}}
		// The cancelled run usually returns context.Canceled, but a storage
		// request cut off by the cancellation may surface first as the
		// backend's own error. Either way the run must stop with an error.
		first, err := server.Migrate(ctx, src.cfg, to, testLogger(t), opts)
		if err == nil {
			t.Fatalf("interrupted migrate returned no error, want one")
		}
		if !errors.Is(err, context.Canceled) {
			t.Logf("interrupted migrate stopped with %v", err)
		}
		if first.Objects >= src.objects {
			t.Fatalf("interrupted migrate stored all %d objects; it should have stopped", first.Objects)
		}

		resumed, err := server.Migrate(t.Context(), src.cfg, to, testLogger(t), migrate.Options{})
		if err != nil {
			t.Fatalf("resumed migrate: %v", err)
		}
		if resumed.BlobsPresent == 0 || resumed.BlobsCopied+first.BlobsCopied < src.blobs {
			t.Errorf("resumed run copied %d blobs and found %d present, after %d copied by the first; want the rest of %d",
				resumed.BlobsCopied, resumed.BlobsPresent, first.BlobsCopied, src.blobs)
		}
		wantSame(t, src.opened(t), openTarget(t, to))

		again, err := server.Migrate(t.Context(), src.cfg, to, testLogger(t), migrate.Options{})
		if err != nil {
			t.Fatalf("third migrate: %v", err)
		}
		// The blobs that only an unlinked reference needs are not checked
		// again: their manifests are stored already.
		if again.BlobsCopied != 0 || again.BlobsPresent != src.blobs-src.unlinked {
			t.Errorf("run over a complete target copied %d blobs and found %d present, want 0 and %d",
				again.BlobsCopied, again.BlobsPresent, src.blobs-src.unlinked)
		}
	})
}

// wantFullReport checks the counts of a run over an empty target.
func (s *source) wantFullReport(t *testing.T, r *migrate.Report) {
	t.Helper()
	want := migrate.Report{
		Buckets: int64(fullShape.buckets) + 1, Repositories: int64(fullShape.repositories),
		Manifests: s.manifests, Tags: s.tags, Objects: s.objects,
		BlobsCopied: s.blobs, BlobsPresent: 0, UploadSessions: 1, MultipartUploads: 1,
	}
	got := *r
	got.BlobLinks, got.BytesCopied = 0, 0
	if got != want {
		t.Errorf("report %+v, want %+v", got, want)
	}
}

// TestMigrateRejectsCorruptBlob checks that a source blob whose content no
// longer matches its digest stops the run with an error naming the digest,
// and that the target never stores the corrupt bytes.
func TestMigrateRejectsCorruptBlob(t *testing.T) {
	src := buildSource(t, shape{repositories: 1, imagesPerRepo: 3, layers: 2, buckets: 1, objectsPerBucket: 3})
	objects, err := src.store.ListObjects(t.Context(), "bucket-0", "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := objects[len(objects)-1].Blob
	path := filepath.Join(src.root, filepath.FromSlash(blob.Key(corrupt)))
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	content[0] ^= 0xff // same size, other bytes
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	to := config.Default()
	to.Storage.Filesystem.Root = filepath.Join(dir, "storage")
	to.Metadata.SQLite.Path = filepath.Join(dir, "metadata.db")
	_, err = server.Migrate(t.Context(), src.cfg, to, testLogger(t), migrate.Options{})
	if !errors.Is(err, blob.ErrDigestMismatch) {
		t.Fatalf("migrate: error %v, want one wrapping blob.ErrDigestMismatch", err)
	}
	if !strings.Contains(err.Error(), string(corrupt)) {
		t.Errorf("migrate error %q does not name the corrupt blob %s", err, corrupt)
	}
	if _, err := os.Stat(filepath.Join(to.Storage.Filesystem.Root, filepath.FromSlash(blob.Key(corrupt)))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("target stores the corrupt blob %s (stat error %v)", corrupt, err)
	}
}

// TestMigrateBetweenSQLiteDeployments migrates into another single-node
// deployment, which checks the pair of drivers that needs no server.
func TestMigrateBetweenSQLiteDeployments(t *testing.T) {
	src := buildSource(t, shape{repositories: 2, imagesPerRepo: 5, layers: 3, buckets: 2, objectsPerBucket: 20})
	dir := t.TempDir()
	to := config.Default()
	to.Storage.Filesystem.Root = filepath.Join(dir, "storage")
	to.Metadata.SQLite.Path = filepath.Join(dir, "metadata.db")
	if _, err := server.Migrate(t.Context(), src.cfg, to, testLogger(t), migrate.Options{Workers: 2}); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	wantSame(t, src.opened(t), openTarget(t, to))
}

// TestMigrateResumesBetweenSQLiteDeployments cancels a run after a few
// records and resumes it, on stores that need no server, so that it also
// runs quickly under the race detector.
func TestMigrateResumesBetweenSQLiteDeployments(t *testing.T) {
	src := buildSource(t, shape{repositories: 2, imagesPerRepo: 10, layers: 3, buckets: 1, objectsPerBucket: 50})
	dir := t.TempDir()
	to := config.Default()
	to.Storage.Filesystem.Root = filepath.Join(dir, "storage")
	to.Metadata.SQLite.Path = filepath.Join(dir, "metadata.db")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stored atomic.Int64
	opts := migrate.Options{Workers: 4, AfterItem: func(migrate.Item) {
		if stored.Add(1) == 40 {
			cancel()
		}
	}}
	if _, err := server.Migrate(ctx, src.cfg, to, testLogger(t), opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted migrate: error %v, want one wrapping context.Canceled", err)
	}
	if _, err := server.Migrate(t.Context(), src.cfg, to, testLogger(t), migrate.Options{Workers: 4}); err != nil {
		t.Fatalf("resumed migrate: %v", err)
	}
	wantSame(t, src.opened(t), openTarget(t, to))
}

// targetConfig returns the configuration of a scaled-out deployment over
// a PostgreSQL database and a prefix of the versitygw bucket.
func targetConfig(dbURL string, s3 s3Server, prefix string) config.Config {
	cfg := config.Default()
	cfg.Storage.Driver = "s3"
	cfg.Storage.S3 = config.S3Storage{Endpoint: s3.endpoint, Region: "us-east-1", Bucket: s3.bucket, Prefix: prefix,
		PathStyle: true, AccessKey: s3.accessKey, SecretKey: s3.secretKey}
	cfg.Metadata.Driver = "postgres"
	cfg.Metadata.Postgres.URL = dbURL
	return cfg
}

// keepUploadsFolder stores one key under uploads/ in the target's bucket,
// so that versitygw never deletes that folder. Its posix backend removes a
// folder that a delete left empty, and a PutObject into the same folder at
// that moment fails with 409 ExistingObjectIsDirectory. The migration moves
// each staged upload to its content key, which deletes it from uploads/, so
// it empties the folder while other copies still write to it.
func keepUploadsFolder(t *testing.T, cfg config.Config) {
	t.Helper()
	w, err := openTarget(t, cfg).driver.Writer(t.Context(), "uploads/keep", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("keeps the folder")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// opened returns the source's stores for comparisons.
func (s *source) opened(t *testing.T) deployment {
	t.Helper()
	driver, err := filesystem.New(s.root)
	if err != nil {
		t.Fatal(err)
	}
	return deployment{meta: s.store, driver: driver}
}

// openTarget opens the stores of a target configuration.
func openTarget(t *testing.T, cfg config.Config) deployment {
	t.Helper()
	var driver storage.Driver
	var err error
	if cfg.Storage.Driver == "s3" {
		c := cfg.Storage.S3
		driver, err = s3storage.New(t.Context(), s3storage.Options{Endpoint: c.Endpoint, Region: c.Region, Bucket: c.Bucket,
			Prefix: c.Prefix, PathStyle: c.PathStyle, AccessKey: c.AccessKey, SecretKey: c.SecretKey})
	} else {
		driver, err = filesystem.New(cfg.Storage.Filesystem.Root)
	}
	if err != nil {
		t.Fatal(err)
	}
	d := deployment{driver: driver}
	if cfg.Metadata.Driver == "postgres" {
		store, err := postgres.Open(t.Context(), cfg.Metadata.Postgres.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		d.meta = store
	} else {
		store, err := sqlite.Open(t.Context(), cfg.Metadata.SQLite.Path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		d.meta = store
	}
	return d
}

// testLogger writes the run's warnings and errors to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}
