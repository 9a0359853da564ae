package objects

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/checksum"
	"github.com/cofferhq/coffer/internal/metadata"
)

// CompletedPart is one entry of a CompleteMultipartUpload request.
type CompletedPart struct {
	Number   int
	ETag     string // quoted, escaped or bare; normalised before comparison
	Checksum string // base64, optional
}

// CompleteInput is a CompleteMultipartUpload request.
type CompleteInput struct {
	Bucket, Key, UploadID string
	Parts                 []CompletedPart
	Condition             metadata.Precondition
}

// CompleteMultipartUpload checks the listed parts, joins their bytes into
// one blob (hashing it with SHA-256 for its content address), and records
// the object; parts not listed are discarded. The ETag is the MD5 of the
// part MD5s with the part count, and a composite or full-object checksum is
// derived from the part checksums, so neither needs another pass over the
// bytes.
func (s *Store) CompleteMultipartUpload(ctx context.Context, in CompleteInput) (*metadata.Object, error) {
	u, err := s.Upload(ctx, in.Bucket, in.Key, in.UploadID)
	if err != nil {
		return nil, err
	}
	parts, err := s.selectParts(ctx, u, in.Parts)
	if err != nil {
		return nil, err
	}
	if err := s.checkPrecondition(ctx, in.Bucket, in.Key, in.Condition); err != nil {
		return nil, err
	}

	var total int64
	partMD5s := md5.New()
	objectParts := make([]metadata.ObjectPart, len(parts))
	for i, p := range parts {
		total += p.Size
		raw, _ := hex.DecodeString(p.ETag)
		partMD5s.Write(raw)
		objectParts[i] = metadata.ObjectPart{Number: p.Number, Size: p.Size, Checksum: p.Checksum}
	}

	d, size, location, err := s.joinParts(ctx, u.ID, parts, total)
	if err != nil {
		return nil, fmt.Errorf("join parts of upload %s: %w", u.ID, err)
	}
	o := &metadata.Object{
		Bucket:       u.Bucket,
		Key:          u.Key,
		Blob:         d,
		BlobLocation: location,
		Size:         size,
		ETag:         fmt.Sprintf("%s-%d", hex.EncodeToString(partMD5s.Sum(nil)), len(parts)),
		ContentType:  u.ContentType,
		Headers:      u.Headers,
		UserMetadata: u.UserMetadata,
		Parts:        objectParts,
		Modified:     time.Now().UTC(),
	}
	if err := objectChecksum(u, parts, o); err != nil {
		return nil, err
	}

	_, stored, err := s.meta.CompleteMultipartUpload(context.WithoutCancel(ctx), u.ID, o, in.Condition)
	switch {
	case errors.Is(err, metadata.ErrNotFound):
		return nil, fmt.Errorf("upload %s: %w", u.ID, ErrNoSuchUpload)
	case errors.Is(err, metadata.ErrPreconditionFailed):
		return nil, fmt.Errorf("object %s/%s: %w", u.Bucket, u.Key, ErrPreconditionFailed)
	case err != nil:
		return nil, fmt.Errorf("complete upload %s: %w", u.ID, err)
	}
	s.blobs.Settle(ctx, d, location)
	for _, p := range stored {
		s.deleteStaged(ctx, p.StorageKey)
	}
	s.notifyStored(ctx, o)
	return o, nil
}

// selectParts matches the request's part list against the stored parts:
// ascending numbers, known parts, equal ETags and checksums, and the
// minimum size for every part but the last.
func (s *Store) selectParts(ctx context.Context, u metadata.MultipartUpload, requested []CompletedPart) ([]metadata.Part, error) {
	if len(requested) == 0 {
		return nil, fmt.Errorf("%w: the request lists no parts", ErrInvalidPart)
	}
	stored := map[int]metadata.Part{}
	for after := 0; ; {
		page, err := s.meta.ListParts(ctx, u.ID, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("list parts of upload %s: %w", u.ID, err)
		}
		for _, p := range page {
			stored[p.Number] = p
			after = p.Number
		}
		if len(page) < 1000 {
			break
		}
	}

	parts := make([]metadata.Part, 0, len(requested))
	for i, req := range requested {
		if i > 0 && req.Number <= requested[i-1].Number {
			return nil, fmt.Errorf("%w: part %d follows part %d", ErrInvalidPartOrder, req.Number, requested[i-1].Number)
		}
		p, ok := stored[req.Number]
		if !ok {
			return nil, fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, req.Number)
		}
		if NormalizeETag(req.ETag) != p.ETag {
			return nil, fmt.Errorf("%w: part %d has ETag %q, the request names %q", ErrInvalidPart, req.Number, p.ETag, req.ETag)
		}
		if req.Checksum != "" && p.Checksum != "" && req.Checksum != p.Checksum {
			return nil, fmt.Errorf("%w: part %d has checksum %s, the request names %s", ErrInvalidPart, req.Number, p.Checksum, req.Checksum)
		}
		parts = append(parts, p)
	}
	for i, p := range parts[:len(parts)-1] {
		if p.Size < MinPartSize {
			return nil, fmt.Errorf("%w: part %d (position %d) has %d bytes, the minimum is %d", ErrEntityTooSmall, p.Number, i+1, p.Size, MinPartSize)
		}
	}
	return parts, nil
}

// objectChecksum sets the object's checksum from its parts' checksums.
func objectChecksum(u metadata.MultipartUpload, parts []metadata.Part, o *metadata.Object) error {
	if u.ChecksumAlgorithm == "" {
		return nil
	}
	alg, err := checksum.Parse(u.ChecksumAlgorithm)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	sums := make([][]byte, len(parts))
	full := make([]checksum.Part, len(parts))
	for i, p := range parts {
		raw, err := alg.Decode(p.Checksum)
		if err != nil || p.Checksum == "" {
			return fmt.Errorf("%w: part %d has no valid %s checksum", ErrInvalidPart, p.Number, u.ChecksumAlgorithm)
		}
		sums[i] = raw
		full[i] = checksum.Part{Checksum: raw, Size: p.Size}
	}

	var value string
	if u.ChecksumType == "FULL_OBJECT" {
		combined, err := checksum.FullObject(alg, full)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
		value = checksum.Encode(combined)
	} else if value, err = checksum.Composite(alg, sums); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	o.Checksums = map[string]string{u.ChecksumAlgorithm: value}
	o.ChecksumType = u.ChecksumType
	return nil
}

// NormalizeETag removes the quotes, or their &#34; and &quot; escapes,
// around an ETag.
func NormalizeETag(etag string) string {
	etag = strings.TrimSpace(etag)
	for _, quote := range []string{`"`, "&#34;", "&quot;"} {
		etag = strings.TrimPrefix(etag, quote)
		etag = strings.TrimSuffix(etag, quote)
	}
	return etag
}

// errPartsClosed reports a read of a partsReader after Close.
var errPartsClosed = errors.New("parts reader is closed")

// partsReader reads the staged parts one after another, opening each only
// when the previous one is finished. Close may run while a Read does: it
// waits for the Read, and later reads fail.
type partsReader struct {
	ctx   context.Context
	store *Store

	mu      sync.Mutex
	parts   []metadata.Part
	current io.ReadCloser
	closed  bool
}

func (r *partsReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.closed {
			return 0, errPartsClosed
		}
		if r.current == nil {
			if len(r.parts) == 0 {
				return 0, io.EOF
			}
			rc, err := r.store.blobs.OpenStaged(r.ctx, r.parts[0].StorageKey)
			if err != nil {
				return 0, err
			}
			r.current, r.parts = rc, r.parts[1:]
		}
		n, err := r.current.Read(p)
		if errors.Is(err, io.EOF) {
			r.current.Close()
			r.current = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// Close closes the part being read.
func (r *partsReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.current == nil {
		return nil
	}
	err := r.current.Close()
	r.current = nil
	return err
}
