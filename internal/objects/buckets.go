package objects

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateBucket creates a bucket in region (the store's region when empty).
// Every bucket belongs to the one owner of this version, so creating an
// existing bucket returns ErrBucketExists (S3's BucketAlreadyOwnedByYou).
func (s *Store) CreateBucket(ctx context.Context, name, region string) error {
	if err := ValidateBucketName(name); err != nil {
		return err
	}
	if region == "" {
		region = s.region
	}
	err := s.meta.CreateBucket(ctx, metadata.Bucket{Name: name, Region: region, Created: time.Now().UTC()})
	if errors.Is(err, metadata.ErrAlreadyExists) {
		return fmt.Errorf("bucket %s: %w", name, ErrBucketExists)
	}
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// Bucket returns the bucket, or ErrNoSuchBucket.
func (s *Store) Bucket(ctx context.Context, name string) (metadata.Bucket, error) {
	if err := ValidateBucketName(name); err != nil {
		return metadata.Bucket{}, err
	}
	b, err := s.meta.GetBucket(ctx, name)
	if errors.Is(err, metadata.ErrNotFound) {
		return metadata.Bucket{}, fmt.Errorf("bucket %s: %w", name, ErrNoSuchBucket)
	}
	if err != nil {
		return metadata.Bucket{}, fmt.Errorf("get bucket %s: %w", name, err)
	}
	return b, nil
}

// Buckets returns every bucket in name order.
func (s *Store) Buckets(ctx context.Context) ([]metadata.Bucket, error) {
	buckets, err := s.meta.ListBuckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return buckets, nil
}

// DeleteBucket removes an empty bucket.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	if err := ValidateBucketName(name); err != nil {
		return err
	}
	err := s.meta.DeleteBucket(ctx, name)
	switch {
	case errors.Is(err, metadata.ErrNotFound):
		return fmt.Errorf("bucket %s: %w", name, ErrNoSuchBucket)
	case errors.Is(err, metadata.ErrNotEmpty):
		return fmt.Errorf("bucket %s: %w", name, ErrBucketNotEmpty)
	case err != nil:
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// DeleteBucketRecursive removes every object and multipart upload of the
// bucket, then the bucket. It is a management operation, not part of S3.
func (s *Store) DeleteBucketRecursive(ctx context.Context, name string) error {
	if _, err := s.Bucket(ctx, name); err != nil {
		return err
	}
	for {
		page, err := s.meta.ListObjects(ctx, name, "", "", 1000)
		if err != nil {
			return fmt.Errorf("list objects of %s: %w", name, err)
		}
		for _, o := range page {
			_, err := s.meta.DeleteObject(ctx, name, o.Key)
			if errors.Is(err, metadata.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("delete object %s/%s: %w", name, o.Key, err)
			}
			s.notifyDeleted(ctx, name, o.Key)
		}
		if len(page) < 1000 {
			break
		}
	}
	for {
		uploads, err := s.meta.ListMultipartUploads(ctx, name, "", "", "", 1000)
		if err != nil {
			return fmt.Errorf("list multipart uploads of %s: %w", name, err)
		}
		for _, u := range uploads {
			if err := s.abortUpload(ctx, u.ID); err != nil && !errors.Is(err, ErrNoSuchUpload) {
				return err
			}
		}
		if len(uploads) < 1000 {
			break
		}
	}
	return s.DeleteBucket(ctx, name)
}

// Usage returns the usage counters of bucket, or ErrNoSuchBucket.
func (s *Store) Usage(ctx context.Context, bucket string) (metadata.BucketUsage, error) {
	if err := ValidateBucketName(bucket); err != nil {
		return metadata.BucketUsage{}, err
	}
	u, err := s.meta.BucketUsage(ctx, bucket)
	if errors.Is(err, metadata.ErrNotFound) {
		return metadata.BucketUsage{}, fmt.Errorf("bucket %s: %w", bucket, ErrNoSuchBucket)
	}
	if err != nil {
		return metadata.BucketUsage{}, fmt.Errorf("read usage of bucket %s: %w", bucket, err)
	}
	return u, nil
}
