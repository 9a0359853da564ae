package objects

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Resumable upload sessions of the native object API run on the same
// machinery as OCI chunked uploads: the blob store keeps the bytes and the
// running SHA-256, and the metadata store keeps the session. The session's
// repository field names its target as "objects:<bucket>/<key>"; bucket
// names cannot contain '/', so the first '/' separates the two.

const sessionTargetPrefix = "objects:"

// ErrNoSuchSession reports an upload session that does not exist or does
// not belong to the objects API.
var ErrNoSuchSession = errors.New("upload session not found")

// Session is an open upload session of the native object API.
type Session struct {
	ID     string
	Bucket string
	Key    string
	Offset int64
}

// StartSession opens a resumable upload of bucket/key.
func (s *Store) StartSession(ctx context.Context, bucket, key string) (Session, error) {
	if err := ValidateKey(key); err != nil {
		return Session{}, err
	}
	if _, err := s.Bucket(ctx, bucket); err != nil {
		return Session{}, err
	}
	u, err := s.blobs.StartUpload(ctx, sessionTargetPrefix+bucket+"/"+key)
	if err != nil {
		return Session{}, fmt.Errorf("start upload of %s/%s: %w", bucket, key, err)
	}
	return Session{ID: u.ID, Bucket: bucket, Key: key}, nil
}

// Session returns an open session.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	u, err := s.blobs.GetUpload(ctx, id)
	if errors.Is(err, blob.ErrUploadUnknown) {
		return Session{}, fmt.Errorf("upload %s: %w", id, ErrNoSuchSession)
	}
	if err != nil {
		return Session{}, err
	}
	return sessionOf(u)
}

// SessionStatus returns a session once no request is writing to it, so
// that its offset is where the client must resume.
func (s *Store) SessionStatus(ctx context.Context, id string) (Session, error) {
	u, err := s.blobs.SettledUpload(ctx, id)
	if errors.Is(err, blob.ErrUploadUnknown) {
		return Session{}, fmt.Errorf("upload %s: %w", id, ErrNoSuchSession)
	}
	if err != nil {
		return Session{}, err
	}
	return sessionOf(u)
}

func sessionOf(u metadata.Upload) (Session, error) {
	target, ok := strings.CutPrefix(u.Repository, sessionTargetPrefix)
	bucket, key, found := strings.Cut(target, "/")
	if !ok || !found {
		return Session{}, fmt.Errorf("upload %s: %w", u.ID, ErrNoSuchSession)
	}
	return Session{ID: u.ID, Bucket: bucket, Key: key, Offset: u.Offset}, nil
}

// AppendSession adds a chunk at offset (see blob.Store.Append).
func (s *Store) AppendSession(ctx context.Context, id string, offset int64, body io.Reader, declared int64) (Session, error) {
	if _, err := s.Session(ctx, id); err != nil {
		return Session{}, err
	}
	u, err := s.blobs.Append(ctx, id, offset, body, declared)
	if err != nil {
		var offsetErr *blob.OffsetError
		switch {
		case errors.As(err, &offsetErr):
			return Session{ID: id, Offset: offsetErr.Expected}, fmt.Errorf("%w: %w", ErrInvalidRange, err)
		case errors.Is(err, blob.ErrSizeMismatch):
			return Session{}, fmt.Errorf("%w: %w", ErrIncompleteBody, err)
		}
		return Session{}, err
	}
	return sessionOf(u)
}

// CompleteSession checks that the session's bytes hash to expected and
// stores them as the object. The MD5 for the object's ETag takes one more
// read of the content, since sessions keep only the running SHA-256.
func (s *Store) CompleteSession(ctx context.Context, id string, expected digest.Digest, attrs Attributes) (*metadata.Object, error) {
	session, err := s.Session(ctx, id)
	if err != nil {
		return nil, err
	}
	if expected.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("%w: objects are addressed by sha256 digests, not %s", ErrInvalidArgument, expected.Algorithm())
	}
	size, location, err := s.blobs.Commit(ctx, id, expected, nil, 0)
	if errors.Is(err, blob.ErrDigestMismatch) {
		return nil, fmt.Errorf("%w: %w", ErrBadDigest, err)
	}
	if err != nil {
		return nil, fmt.Errorf("complete upload %s: %w", id, err)
	}

	etag, err := s.contentMD5(context.WithoutCancel(ctx), expected, location, size)
	if err != nil {
		return nil, err
	}
	o := &metadata.Object{
		Bucket: session.Bucket, Key: session.Key, Blob: expected, BlobLocation: location, Size: size, ETag: etag,
		ContentType: attrs.ContentType, Headers: attrs.Headers, UserMetadata: attrs.UserMetadata,
		Modified: time.Now().UTC(),
	}
	if err := s.storeObject(ctx, o, metadata.Precondition{}); err != nil {
		return nil, err
	}
	return o, nil
}

// contentMD5 reads a stored blob at location, verifying it, and returns
// its hex MD5.
func (s *Store) contentMD5(ctx context.Context, d digest.Digest, location string, size int64) (string, error) {
	rc, err := s.blobs.OpenAt(ctx, d, location, size, 0, size)
	if err != nil {
		return "", fmt.Errorf("read blob %s: %w", d, err)
	}
	defer rc.Close()
	h := md5.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", fmt.Errorf("read blob %s: %w", d, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CancelSession removes a session and its bytes.
func (s *Store) CancelSession(ctx context.Context, id string) error {
	if _, err := s.Session(ctx, id); err != nil {
		return err
	}
	return s.blobs.Cancel(ctx, id)
}
