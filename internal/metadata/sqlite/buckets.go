package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateBucket records b, or returns an error wrapping
// metadata.ErrAlreadyExists when a bucket of that name exists. A zero
// b.Created is stored as the current time.
func (s *Store) CreateBucket(ctx context.Context, b metadata.Bucket) error {
	const insert = `INSERT INTO buckets (name, region, created) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`
	res, err := s.writer.ExecContext(ctx, insert, b.Name, b.Region, unixNano(b.Created, time.Now()))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", b.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", b.Name, err)
	}
	if n == 0 {
		return fmt.Errorf("bucket %s: %w", b.Name, metadata.ErrAlreadyExists)
	}
	return nil
}

// getBucketQuery selects a bucket by name.
const getBucketQuery = `SELECT region, created FROM buckets WHERE name = ?`

// bucketExistsQuery selects whether a bucket exists. requireBucket runs it.
const bucketExistsQuery = `SELECT EXISTS (SELECT 1 FROM buckets WHERE name = ?)`

// GetBucket returns the bucket, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetBucket(ctx context.Context, name string) (metadata.Bucket, error) {
	b := metadata.Bucket{Name: name}
	var created int64
	err := s.read.getBucket.QueryRowContext(ctx, name).Scan(&b.Region, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.Bucket{}, fmt.Errorf("bucket %s: %w", name, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Bucket{}, fmt.Errorf("get bucket %s: %w", name, err)
	}
	b.Created = fromUnixNano(created)
	return b, nil
}

// ListBuckets returns every bucket in byte order of their names.
func (s *Store) ListBuckets(ctx context.Context) ([]metadata.Bucket, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT name, region, created FROM buckets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	defer rows.Close()

	var buckets []metadata.Bucket
	for rows.Next() {
		var b metadata.Bucket
		var created int64
		if err := rows.Scan(&b.Name, &b.Region, &created); err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		b.Created = fromUnixNano(created)
		buckets = append(buckets, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return buckets, nil
}

// DeleteBucket removes an empty bucket. It returns an error wrapping
// metadata.ErrNotFound when the bucket does not exist, and one wrapping
// metadata.ErrNotEmpty while it contains an object or a multipart upload.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireBucket(ctx, tx.StmtContext(ctx, s.writes.bucketExists), name); err != nil {
			return err
		}

		const inUse = `SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)
			OR EXISTS (SELECT 1 FROM multipart_uploads WHERE bucket = ?1)`
		var notEmpty bool
		if err := tx.QueryRowContext(ctx, inUse, name).Scan(&notEmpty); err != nil {
			return fmt.Errorf("look for objects and uploads: %w", err)
		}
		if notEmpty {
			return fmt.Errorf("bucket %s still contains objects or multipart uploads: %w", name, metadata.ErrNotEmpty)
		}

		_, err := tx.ExecContext(ctx, `DELETE FROM buckets WHERE name = ?`, name)
		return err
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrNotEmpty) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// requireBucket returns nil when bucket name exists, else an error wrapping
// metadata.ErrNotFound.
func requireBucket(ctx context.Context, exists *sql.Stmt, name string) error {
	var found bool
	err := exists.QueryRowContext(ctx, name).Scan(&found)
	if err != nil {
		return fmt.Errorf("look up bucket %s: %w", name, err)
	}
	if !found {
		return fmt.Errorf("bucket %s: %w", name, metadata.ErrNotFound)
	}
	return nil
}
