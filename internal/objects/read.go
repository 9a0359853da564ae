package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Object returns the object's record, or ErrNoSuchBucket / ErrNoSuchKey.
func (s *Store) Object(ctx context.Context, bucket, key string) (*metadata.Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	o, err := s.meta.GetObject(ctx, bucket, key)
	if errors.Is(err, metadata.ErrNotFound) {
		if _, bucketErr := s.Bucket(ctx, bucket); bucketErr != nil {
			return nil, bucketErr
		}
		return nil, fmt.Errorf("object %s/%s: %w", bucket, key, ErrNoSuchKey)
	}
	if err != nil {
		return nil, fmt.Errorf("get object %s/%s: %w", bucket, key, err)
	}
	// An object whose content the scrub quarantined counts as missing
	// until it is written again.
	if o.ContentUnavailable {
		return nil, fmt.Errorf("object %s/%s: content %s is quarantined or has no blob row: %w", bucket, key, o.Blob, ErrNoSuchKey)
	}
	return o, nil
}

// Open returns length bytes of the object from start. The blob store
// verifies the content's digest while it streams.
func (s *Store) Open(ctx context.Context, o *metadata.Object, start, length int64) (io.ReadCloser, error) {
	rc, err := s.blobs.Open(ctx, o.Blob, o.Size, start, length)
	if errors.Is(err, blob.ErrInvalidRange) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRange, err)
	}
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("object %s/%s: content %s is missing: %w: %w", o.Bucket, o.Key, o.Blob, ErrNoSuchKey, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open object %s/%s: %w", o.Bucket, o.Key, err)
	}
	return rc, nil
}

// PartRange returns the byte range of part number n of o, for GET
// ?partNumber=. An object written in one PUT has one part.
func PartRange(o *metadata.Object, n int) (start, length int64, err error) {
	if len(o.Parts) == 0 {
		if n != 1 {
			return 0, 0, fmt.Errorf("%w: the object has 1 part, part %d was requested", ErrInvalidRange, n)
		}
		return 0, o.Size, nil
	}
	if n < 1 || n > len(o.Parts) {
		return 0, 0, fmt.Errorf("%w: the object has %d parts, part %d was requested", ErrInvalidRange, len(o.Parts), n)
	}
	for _, p := range o.Parts[:n-1] {
		start += p.Size
	}
	return start, o.Parts[n-1].Size, nil
}

// DeleteObject removes an object. Deleting a missing key succeeds, as in S3.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if _, err := s.Bucket(ctx, bucket); err != nil {
		return err
	}
	_, err := s.meta.DeleteObject(ctx, bucket, key)
	if errors.Is(err, metadata.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete object %s/%s: %w", bucket, key, err)
	}
	s.notifyDeleted(ctx, bucket, key)
	return nil
}

// CopyInput describes a CopyObject.
type CopyInput struct {
	Source      *metadata.Object // the source, already read and checked by the caller
	Bucket, Key string           // the destination
	// Replace, when set, gives the destination new attributes
	// (x-amz-metadata-directive: REPLACE); otherwise the source's are kept.
	Replace   *Attributes
	Condition metadata.Precondition
}

// CopyObject makes the destination name the source's blob: no bytes are
// copied, whether within one bucket or across buckets.
func (s *Store) CopyObject(ctx context.Context, in CopyInput) (*metadata.Object, error) {
	if err := ValidateKey(in.Key); err != nil {
		return nil, err
	}
	if _, err := s.Bucket(ctx, in.Bucket); err != nil {
		return nil, err
	}
	src := in.Source
	o := &metadata.Object{
		Bucket:       in.Bucket,
		Key:          in.Key,
		Blob:         src.Blob,
		Size:         src.Size,
		ETag:         src.ETag,
		ContentType:  src.ContentType,
		Headers:      src.Headers,
		UserMetadata: src.UserMetadata,
		Checksums:    src.Checksums,
		ChecksumType: src.ChecksumType,
		Parts:        src.Parts,
		Modified:     time.Now().UTC(),
	}
	if in.Replace != nil {
		o.ContentType = in.Replace.ContentType
		o.Headers = in.Replace.Headers
		o.UserMetadata = in.Replace.UserMetadata
	}
	if err := s.storeObject(ctx, o, in.Condition); err != nil {
		return nil, err
	}
	return o, nil
}
