package postgres

import (
	"testing"

	"github.com/cofferhq/coffer/internal/metadata/metadatatest"
)

// undoUsageMigration removes what migration 0005 created, as if the data
// had been written by a build without usage counters.
const undoUsageMigration = `
	DROP TABLE repository_usage, bucket_usage;
	DROP FUNCTION repository_usage_manifests, repository_usage_tags, repository_usage_links,
		bucket_usage_drop, bucket_usage_objects, bucket_usage_uploads, bucket_usage_parts CASCADE;
	DROP FUNCTION repository_usage_add, bucket_usage_add, usage_shard;
	DELETE FROM schema_migrations WHERE version = 5;`

func TestUsageMigrationBackfills(t *testing.T) {
	ctx := t.Context()
	dsn := newSchema(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	repo, bucket := metadatatest.FillForBackfill(t, s)
	if _, err := s.pool.Exec(ctx, undoUsageMigration); err != nil {
		t.Fatalf("undo migration 0005: %v", err)
	}
	s.Close()

	reopened, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	t.Cleanup(func() { reopened.Close() })

	gotRepo, err := reopened.RepositoryUsage(ctx, "app")
	if err != nil {
		t.Fatalf("RepositoryUsage after the migration: %v", err)
	}
	if gotRepo != repo {
		t.Errorf("RepositoryUsage after the migration =\n%+v\nwant\n%+v", gotRepo, repo)
	}
	gotBucket, err := reopened.BucketUsage(ctx, "media")
	if err != nil {
		t.Fatalf("BucketUsage after the migration: %v", err)
	}
	if gotBucket != bucket {
		t.Errorf("BucketUsage after the migration =\n%+v\nwant\n%+v", gotBucket, bucket)
	}
}
