package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// RepositoryUsage returns the sum of the counter shards of repo, which the
// triggers of migration 0005 keep in step with its manifests, tags and blob
// links. A repository without shards yet has zero usage.
func (s *Store) RepositoryUsage(ctx context.Context, repo string) (metadata.RepositoryUsage, error) {
	const query = `SELECT coalesce(sum(u.manifests), 0)::bigint, coalesce(sum(u.manifest_bytes), 0)::bigint,
			coalesce(sum(u.tags), 0)::bigint, coalesce(sum(u.blobs), 0)::bigint,
			coalesce(sum(u.blob_bytes), 0)::bigint
		FROM repositories r LEFT JOIN repository_usage u ON u.repository_id = r.id
		WHERE r.name = $1
		GROUP BY r.id`
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

// BucketUsage returns the sum of the counter shards of bucket, which the
// triggers of migration 0005 keep in step with its objects and multipart
// uploads. A bucket without shards yet has zero usage.
func (s *Store) BucketUsage(ctx context.Context, bucket string) (metadata.BucketUsage, error) {
	const query = `SELECT coalesce(sum(u.objects), 0)::bigint, coalesce(sum(u.object_bytes), 0)::bigint,
			coalesce(sum(u.multipart_uploads), 0)::bigint, coalesce(sum(u.multipart_parts), 0)::bigint,
			coalesce(sum(u.multipart_bytes), 0)::bigint
		FROM buckets b LEFT JOIN bucket_usage u ON u.bucket = b.name
		WHERE b.name = $1
		GROUP BY b.name`
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
