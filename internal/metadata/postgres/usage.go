package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// RepositoryUsage returns the usage counters of repo, which the triggers of
// migration 0005 keep in step with its manifests, tags and blob links.
func (s *Store) RepositoryUsage(ctx context.Context, repo string) (metadata.RepositoryUsage, error) {
	const query = `SELECT u.manifests, u.manifest_bytes, u.tags, u.blobs, u.blob_bytes
		FROM repositories r JOIN repository_usage u ON u.repository_id = r.id
		WHERE r.name = $1`
	u := metadata.RepositoryUsage{Repository: repo}
	err := s.pool.QueryRow(ctx, query, repo).
		Scan(&u.Manifests, &u.ManifestBytes, &u.Tags, &u.Blobs, &u.BlobBytes)
	if errors.Is(err, pgx.ErrNoRows) {
		return metadata.RepositoryUsage{}, fmt.Errorf("repository %s: %w", repo, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.RepositoryUsage{}, fmt.Errorf("read usage of repository %s: %w", repo, err)
	}
	return u, nil
}

// BucketUsage returns the usage counters of bucket, which the triggers of
// migration 0005 keep in step with its objects and multipart uploads.
func (s *Store) BucketUsage(ctx context.Context, bucket string) (metadata.BucketUsage, error) {
	const query = `SELECT objects, object_bytes, multipart_uploads, multipart_parts, multipart_bytes
		FROM bucket_usage WHERE bucket = $1`
	u := metadata.BucketUsage{Bucket: bucket}
	err := s.pool.QueryRow(ctx, query, bucket).
		Scan(&u.Objects, &u.ObjectBytes, &u.MultipartUploads, &u.MultipartParts, &u.MultipartBytes)
	if errors.Is(err, pgx.ErrNoRows) {
		return metadata.BucketUsage{}, fmt.Errorf("bucket %s: %w", bucket, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.BucketUsage{}, fmt.Errorf("read usage of bucket %s: %w", bucket, err)
	}
	return u, nil
}
