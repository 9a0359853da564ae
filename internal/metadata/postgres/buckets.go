package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateBucket records b, or returns an error wrapping
// metadata.ErrAlreadyExists when a bucket of that name exists. A zero
// b.Created is stored as the current time.
func (s *Store) CreateBucket(ctx context.Context, b metadata.Bucket) error {
	const insert = `INSERT INTO buckets (name, region, created) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO NOTHING`
	result, err := s.pool.Exec(ctx, insert, b.Name, b.Region, unixNano(b.Created, time.Now()))
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", b.Name, err)
	}
	if result.RowsAffected() == 0 {
		return fmt.Errorf("bucket %s: %w", b.Name, metadata.ErrAlreadyExists)
	}
	return nil
}

// GetBucket returns the bucket, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetBucket(ctx context.Context, name string) (metadata.Bucket, error) {
	b := metadata.Bucket{Name: name}
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT region, created FROM buckets WHERE name = $1`, name).Scan(&b.Region, &created)
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.pool.Query(ctx, `SELECT name, region, created FROM buckets ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	buckets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Bucket, error) {
		var b metadata.Bucket
		var created int64
		err := row.Scan(&b.Name, &b.Region, &created)
		b.Created = fromUnixNano(created)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return buckets, nil
}

// DeleteBucket removes an empty bucket. It returns an error wrapping
// metadata.ErrNotFound when the bucket does not exist, and one wrapping
// metadata.ErrNotEmpty while it contains an object or a multipart upload.
// The bucket row is locked first: a concurrent PutObject or
// CreateMultipartUpload either committed before, and its row makes the
// bucket not empty, or waits and then finds the bucket gone.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockBucket(ctx, tx, name, "FOR UPDATE"); err != nil {
			return err
		}

		const inUse = `SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = $1)
			OR EXISTS (SELECT 1 FROM multipart_uploads WHERE bucket = $1)`
		var notEmpty bool
		if err := tx.QueryRow(ctx, inUse, name).Scan(&notEmpty); err != nil {
			return fmt.Errorf("look for objects and uploads: %w", err)
		}
		if notEmpty {
			return fmt.Errorf("bucket %s still contains objects or multipart uploads: %w", name, metadata.ErrNotEmpty)
		}

		_, err := tx.Exec(ctx, `DELETE FROM buckets WHERE name = $1`, name)
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

// lockBucket locks bucket name with the given locking clause, FOR UPDATE to
// delete it or FOR KEY SHARE to keep it until the transaction ends. It
// returns an error wrapping metadata.ErrNotFound when the bucket does not
// exist.
func lockBucket(ctx context.Context, tx pgx.Tx, name, locking string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM buckets WHERE name = $1 `+locking, name).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("bucket %s: %w", name, metadata.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("look up bucket %s: %w", name, err)
	}
	return nil
}

// requireBucket returns nil when bucket name exists, else an error wrapping
// metadata.ErrNotFound.
func requireBucket(ctx context.Context, q queryer, name string) error {
	var exists bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM buckets WHERE name = $1)`, name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("look up bucket %s: %w", name, err)
	}
	if !exists {
		return fmt.Errorf("bucket %s: %w", name, metadata.ErrNotFound)
	}
	return nil
}
