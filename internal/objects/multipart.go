package objects

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/checksum"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Part limits of S3 multipart uploads.
const (
	MaxPartNumber = 10000
	MinPartSize   = 5 << 20 // every part but the last
)

// CreateUploadInput starts a multipart upload.
type CreateUploadInput struct {
	Bucket, Key       string
	Attributes        Attributes
	ChecksumAlgorithm string // x-amz-checksum-algorithm, or empty
	ChecksumType      string // x-amz-checksum-type: COMPOSITE or FULL_OBJECT, or empty
}

// CreateMultipartUpload opens an upload and returns it.
func (s *Store) CreateMultipartUpload(ctx context.Context, in CreateUploadInput) (metadata.MultipartUpload, error) {
	if err := ValidateKey(in.Key); err != nil {
		return metadata.MultipartUpload{}, err
	}
	if _, err := s.Bucket(ctx, in.Bucket); err != nil {
		return metadata.MultipartUpload{}, err
	}
	algorithm, kind, err := uploadChecksum(in.ChecksumAlgorithm, in.ChecksumType)
	if err != nil {
		return metadata.MultipartUpload{}, err
	}
	u := metadata.MultipartUpload{
		ID:                newUploadID(),
		Bucket:            in.Bucket,
		Key:               in.Key,
		ContentType:       in.Attributes.ContentType,
		Headers:           in.Attributes.Headers,
		UserMetadata:      in.Attributes.UserMetadata,
		ChecksumAlgorithm: algorithm,
		ChecksumType:      kind,
		Created:           time.Now().UTC(),
	}
	if err := s.meta.CreateMultipartUpload(ctx, u); err != nil {
		if errors.Is(err, metadata.ErrNotFound) {
			return metadata.MultipartUpload{}, fmt.Errorf("bucket %s: %w", in.Bucket, ErrNoSuchBucket)
		}
		return metadata.MultipartUpload{}, fmt.Errorf("create multipart upload of %s/%s: %w", in.Bucket, in.Key, err)
	}
	return u, nil
}

// uploadChecksum validates the checksum settings of a new upload. CRC64NVME
// only exists as a full-object checksum; the SHA algorithms only as
// composite ones.
func uploadChecksum(algorithm, kind string) (string, string, error) {
	algorithm = strings.ToUpper(algorithm)
	kind = strings.ToUpper(kind)
	if algorithm == "" {
		if kind != "" {
			return "", "", fmt.Errorf("%w: x-amz-checksum-type needs x-amz-checksum-algorithm", ErrInvalidArgument)
		}
		return "", "", nil
	}
	alg, err := checksum.Parse(algorithm)
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	algorithm = alg.String()
	if kind == "" {
		kind = "COMPOSITE"
		if !alg.SupportsComposite() {
			kind = "FULL_OBJECT"
		}
	}
	switch {
	case kind != "COMPOSITE" && kind != "FULL_OBJECT":
		return "", "", fmt.Errorf("%w: x-amz-checksum-type %q is not COMPOSITE or FULL_OBJECT", ErrInvalidArgument, kind)
	case kind == "COMPOSITE" && !alg.SupportsComposite():
		return "", "", fmt.Errorf("%w: %s supports only the FULL_OBJECT checksum type", ErrInvalidArgument, algorithm)
	case kind == "FULL_OBJECT" && !alg.SupportsFullObject():
		return "", "", fmt.Errorf("%w: %s supports only the COMPOSITE checksum type", ErrInvalidArgument, algorithm)
	}
	return algorithm, kind, nil
}

// Upload returns the multipart upload id of bucket/key, or ErrNoSuchUpload.
func (s *Store) Upload(ctx context.Context, bucket, key, id string) (metadata.MultipartUpload, error) {
	u, err := s.meta.GetMultipartUpload(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) || err == nil && (u.Bucket != bucket || u.Key != key) {
		return metadata.MultipartUpload{}, fmt.Errorf("upload %s of %s/%s: %w", id, bucket, key, ErrNoSuchUpload)
	}
	if err != nil {
		return metadata.MultipartUpload{}, fmt.Errorf("get upload %s: %w", id, err)
	}
	return u, nil
}

// PartInput is one UploadPart.
type PartInput struct {
	Upload     metadata.MultipartUpload
	Number     int
	Body       io.Reader
	Size       int64 // declared length, or -1
	ContentMD5 string
	// Checksum names the algorithm of a checksum the client sent with the
	// part; the upload's own algorithm is always computed.
	Checksum ChecksumRequest
}

// UploadPart stores one part durably and records it, replacing an earlier
// part with the same number.
func (s *Store) UploadPart(ctx context.Context, in PartInput) (metadata.Part, error) {
	if in.Number < 1 || in.Number > MaxPartNumber {
		return metadata.Part{}, fmt.Errorf("%w: part number %d is not between 1 and %d", ErrInvalidArgument, in.Number, MaxPartNumber)
	}
	wantMD5, err := decodeContentMD5(in.ContentMD5)
	if err != nil {
		return metadata.Part{}, err
	}
	req := in.Checksum
	if in.Upload.ChecksumAlgorithm != "" {
		if req.Algorithm != "" && !strings.EqualFold(req.Algorithm, in.Upload.ChecksumAlgorithm) {
			return metadata.Part{}, fmt.Errorf("%w: the upload uses %s checksums, the part carries %s", ErrInvalidChecksum, in.Upload.ChecksumAlgorithm, req.Algorithm)
		}
		req.Algorithm = in.Upload.ChecksumAlgorithm
	}
	sums, err := newSums(req, false)
	if err != nil {
		return metadata.Part{}, err
	}
	check := func() error {
		if wantMD5 != nil && string(sums.md5.Sum(nil)) != string(wantMD5) {
			return fmt.Errorf("%w: Content-MD5 does not match the part", ErrBadDigest)
		}
		return sums.verify(req, "")
	}
	key, size, err := s.blobs.Stage(ctx, in.Body, in.Size, sums.writer(), check)
	if err != nil {
		return metadata.Part{}, writeError(err)
	}

	p := metadata.Part{
		UploadID:   in.Upload.ID,
		Number:     in.Number,
		Size:       size,
		ETag:       hex.EncodeToString(sums.md5.Sum(nil)),
		StorageKey: key,
		Modified:   time.Now().UTC(),
	}
	p.Checksum = sums.result("")
	previous, err := s.meta.PutPart(context.WithoutCancel(ctx), p)
	if err != nil {
		s.deleteStaged(ctx, key)
		if errors.Is(err, metadata.ErrNotFound) {
			return metadata.Part{}, fmt.Errorf("upload %s: %w", in.Upload.ID, ErrNoSuchUpload)
		}
		return metadata.Part{}, fmt.Errorf("record part %d of upload %s: %w", in.Number, in.Upload.ID, err)
	}
	if previous != nil {
		s.deleteStaged(ctx, previous.StorageKey)
	}
	s.wakeJoin(in.Upload.ID)
	return p, nil
}

// Parts returns up to limit parts after part number after.
func (s *Store) Parts(ctx context.Context, uploadID string, after, limit int) ([]metadata.Part, error) {
	parts, err := s.meta.ListParts(ctx, uploadID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list parts of upload %s: %w", uploadID, err)
	}
	return parts, nil
}

// Uploads lists the open multipart uploads of a bucket.
func (s *Store) Uploads(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) ([]metadata.MultipartUpload, error) {
	if _, err := s.Bucket(ctx, bucket); err != nil {
		return nil, err
	}
	uploads, err := s.meta.ListMultipartUploads(ctx, bucket, prefix, keyAfter, idAfter, limit)
	if err != nil {
		return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
	}
	return uploads, nil
}

// AbortMultipartUpload removes an upload and the bytes of its parts.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, id string) error {
	if _, err := s.Upload(ctx, bucket, key, id); err != nil {
		return err
	}
	return s.abortUpload(ctx, id)
}

func (s *Store) abortUpload(ctx context.Context, id string) error {
	parts, err := s.meta.AbortMultipartUpload(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("upload %s: %w", id, ErrNoSuchUpload)
	}
	if err != nil {
		return fmt.Errorf("abort upload %s: %w", id, err)
	}
	s.cancelJoin(id)
	for _, p := range parts {
		s.deleteStaged(ctx, p.StorageKey)
	}
	return nil
}

// ExpireUploads aborts the multipart uploads created before cutoff and
// returns how many it removed.
func (s *Store) ExpireUploads(ctx context.Context, cutoff time.Time) (int, error) {
	removed := 0
	for {
		uploads, err := s.meta.ListMultipartUploadsBefore(ctx, cutoff, 100)
		if err != nil {
			return removed, fmt.Errorf("list stale multipart uploads: %w", err)
		}
		for _, u := range uploads {
			if err := s.abortUpload(ctx, u.ID); err != nil && !errors.Is(err, ErrNoSuchUpload) {
				return removed, err
			}
			removed++
		}
		if len(uploads) < 100 {
			return removed, nil
		}
	}
}

// deleteStaged removes a part's bytes; a failure leaves an orphan for
// garbage collection and is logged.
func (s *Store) deleteStaged(ctx context.Context, key string) {
	if err := s.blobs.DeleteStaged(context.WithoutCancel(ctx), key); err != nil {
		telemetry.Logger(ctx).WarnContext(ctx, "part bytes not removed", "key", key, "error", err)
	}
}

func newUploadID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
