package objects

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// PutInput describes one object write.
type PutInput struct {
	Bucket string
	Key    string
	Body   io.Reader
	// Size is the declared length of Body, or -1 when unknown.
	Size int64
	// ContentMD5 is the base64 Content-MD5 header, or empty.
	ContentMD5 string
	// Checksum is the flexible checksum to compute and verify, if any.
	Checksum ChecksumRequest
	// Attributes are the stored headers and user metadata.
	Attributes Attributes
	// Condition makes the write conditional (If-None-Match, If-Match).
	Condition metadata.Precondition
	// ExpectedDigest, when set, must equal the SHA-256 digest of the body.
	// A body with another digest fails with ErrSHA256Mismatch.
	ExpectedDigest digest.Digest
}

// Attributes are the representation headers and user metadata an object
// keeps from the request that wrote it.
type Attributes struct {
	ContentType  string
	Headers      map[string]string
	UserMetadata map[string]string
}

// PutObject streams the body into the blob store while computing its
// MD5 (the ETag), SHA-256 (the content address) and any requested
// checksum, verifies Content-MD5 and the checksum before the commit, and
// then records the object. Nothing is stored when a check fails.
func (s *Store) PutObject(ctx context.Context, in PutInput) (*metadata.Object, error) {
	if err := ValidateKey(in.Key); err != nil {
		return nil, err
	}
	if _, err := s.Bucket(ctx, in.Bucket); err != nil {
		return nil, err
	}
	wantMD5, err := decodeContentMD5(in.ContentMD5)
	if err != nil {
		return nil, err
	}
	if err := s.checkPrecondition(ctx, in.Bucket, in.Key, in.Condition); err != nil {
		return nil, err
	}
	// The blob store computes the SHA-256 digest, which is also a SHA256
	// checksum.
	sums, err := newSums(in.Checksum, true)
	if err != nil {
		return nil, err
	}

	check := func(d digest.Digest) error {
		if in.ExpectedDigest != "" && d != in.ExpectedDigest {
			return fmt.Errorf("%w: the body hashes to %s, expected %s", ErrSHA256Mismatch, d, in.ExpectedDigest)
		}
		if wantMD5 != nil && string(sums.md5.Sum(nil)) != string(wantMD5) {
			return fmt.Errorf("%w: Content-MD5 does not match the body", ErrBadDigest)
		}
		return sums.verify(in.Checksum, d)
	}
	d, size, location, err := s.blobs.Write(ctx, in.Body, in.Size, sums.writer(), check)
	if err != nil {
		return nil, writeError(err)
	}

	o := &metadata.Object{
		Bucket:       in.Bucket,
		Key:          in.Key,
		Blob:         d,
		BlobLocation: location,
		Size:         size,
		ETag:         hex.EncodeToString(sums.md5.Sum(nil)),
		ContentType:  in.Attributes.ContentType,
		Headers:      in.Attributes.Headers,
		UserMetadata: in.Attributes.UserMetadata,
		Modified:     time.Now().UTC(),
	}
	sums.record(o, in.Checksum)
	if err := s.storeObject(ctx, o, in.Condition); err != nil {
		return nil, err
	}
	return o, nil
}

// storeObject records o in metadata, finishing even when the client has
// gone: the bytes are committed, so the write must not leave them orphaned.
func (s *Store) storeObject(ctx context.Context, o *metadata.Object, cond metadata.Precondition) error {
	_, err := s.meta.PutObject(context.WithoutCancel(ctx), o, cond)
	switch {
	case errors.Is(err, metadata.ErrPreconditionFailed):
		return fmt.Errorf("object %s/%s: %w", o.Bucket, o.Key, ErrPreconditionFailed)
	case errors.Is(err, metadata.ErrNotFound):
		return fmt.Errorf("bucket %s: %w", o.Bucket, ErrNoSuchBucket)
	case err != nil:
		return fmt.Errorf("store object %s/%s: %w", o.Bucket, o.Key, err)
	}
	s.blobs.Settle(ctx, o.Blob, o.BlobLocation)
	s.notifyStored(ctx, o)
	return nil
}

// checkPrecondition evaluates a conditional write before any byte is
// stored, so that a failing condition costs no upload. The metadata store
// checks it again atomically with the write.
func (s *Store) checkPrecondition(ctx context.Context, bucket, key string, cond metadata.Precondition) error {
	if !cond.IfNoneMatchAny && cond.IfMatch == "" {
		return nil
	}
	current, err := s.meta.GetObject(ctx, bucket, key)
	if err != nil && !errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("get object %s/%s: %w", bucket, key, err)
	}
	exists := err == nil
	if cond.IfNoneMatchAny && exists {
		return fmt.Errorf("object %s/%s exists and If-None-Match is *: %w", bucket, key, ErrPreconditionFailed)
	}
	if cond.IfMatch != "" && (!exists || current.ETag != cond.IfMatch) {
		return fmt.Errorf("object %s/%s does not have ETag %q: %w", bucket, key, cond.IfMatch, ErrPreconditionFailed)
	}
	return nil
}

func decodeContentMD5(value string) ([]byte, error) {
	if value == "" {
		return nil, nil
	}
	sum, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(sum) != md5.Size {
		return nil, fmt.Errorf("%w: %q is not the base64 of 16 bytes", ErrInvalidDigest, value)
	}
	return sum, nil
}

// writeError maps blob store errors to domain errors.
func writeError(err error) error {
	switch {
	case errors.Is(err, blob.ErrSizeMismatch):
		return fmt.Errorf("%w: %w", ErrIncompleteBody, err)
	case errors.Is(err, ErrBadDigest), errors.Is(err, ErrInvalidChecksum):
		return err
	}
	return err
}
