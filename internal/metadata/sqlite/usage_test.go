package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/cofferhq/coffer/internal/metadata/metadatatest"
)

// undoUsageMigration removes what migration 0005 created, as if the data
// had been written by a build without usage counters.
const undoUsageMigration = `
	DROP TRIGGER repository_usage_create;
	DROP TRIGGER repository_usage_manifest_insert;
	DROP TRIGGER repository_usage_manifest_delete;
	DROP TRIGGER repository_usage_tag_insert;
	DROP TRIGGER repository_usage_tag_delete;
	DROP TRIGGER repository_usage_link_insert;
	DROP TRIGGER repository_usage_link_delete;
	DROP TRIGGER bucket_usage_create;
	DROP TRIGGER bucket_usage_drop;
	DROP TRIGGER bucket_usage_object_insert;
	DROP TRIGGER bucket_usage_object_update;
	DROP TRIGGER bucket_usage_object_delete;
	DROP TRIGGER bucket_usage_upload_insert;
	DROP TRIGGER bucket_usage_upload_delete;
	DROP TRIGGER bucket_usage_part_insert;
	DROP TRIGGER bucket_usage_part_update;
	DROP TRIGGER bucket_usage_part_delete;
	DROP TABLE repository_usage;
	DROP TABLE bucket_usage;
	DELETE FROM schema_migrations WHERE version = 5;`

func TestUsageMigrationBackfills(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "metadata.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	repo, bucket := metadatatest.FillForBackfill(t, s)
	if _, err := s.writer.ExecContext(ctx, undoUsageMigration); err != nil {
		t.Fatalf("undo migration 0005: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	reopened, err := Open(ctx, path)
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
