package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// ErrUploadUnknown reports an upload session that does not exist.
var ErrUploadUnknown = errors.New("upload session not found")

// UploadStates persists upload sessions. metadata.Uploads implements it.
type UploadStates interface {
	CreateUpload(ctx context.Context, u metadata.Upload) error
	GetUpload(ctx context.Context, id string) (metadata.Upload, error)
	AdvanceUpload(ctx context.Context, u metadata.Upload, previousOffset int64) error
	DeleteUpload(ctx context.Context, id string) error
}

// OffsetError reports a chunk that does not start where the session ends.
type OffsetError struct {
	Expected int64 // the session's committed offset
	Got      int64
}

func (e *OffsetError) Error() string {
	return fmt.Sprintf("chunk starts at offset %d, upload session is at offset %d", e.Got, e.Expected)
}

func (e *OffsetError) Unwrap() error { return ErrInvalidRange }

// sessionLocks serialises requests on one upload session inside this
// process, so two chunks never write the same file at once. A request
// waiting for a session gives up when its context ends; requests on other
// sessions never wait.
type sessionLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// lock acquires session id, or returns ctx's error.
func (l *sessionLocks) lock(ctx context.Context, id string) (func(), error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		busy, ok := l.held[id]
		if !ok {
			done := make(chan struct{})
			l.held[id] = done
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, id)
				l.mu.Unlock()
				close(done)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for upload %s: %w", id, ctx.Err())
		}
	}
}

// StartUpload opens an upload session for repo.
func (s *Store) StartUpload(ctx context.Context, repo string) (metadata.Upload, error) {
	id, err := newSessionID()
	if err != nil {
		return metadata.Upload{}, err
	}
	state, err := marshalHash(sha256.New())
	if err != nil {
		return metadata.Upload{}, err
	}
	now := time.Now().UTC()
	u := metadata.Upload{ID: id, Repository: repo, HashState: state, Created: now, Updated: now}

	w, err := s.driver.Writer(ctx, uploadKey(id), 0)
	if err != nil {
		return metadata.Upload{}, fmt.Errorf("create upload %s: %w", id, err)
	}
	if err := w.Commit(ctx); err != nil {
		return metadata.Upload{}, fmt.Errorf("create upload %s: %w", id, err)
	}
	if err := s.uploads.CreateUpload(ctx, u); err != nil {
		return metadata.Upload{}, fmt.Errorf("record upload %s: %w", id, err)
	}
	return u, nil
}

// GetUpload returns the state of session id, or ErrUploadUnknown.
func (s *Store) GetUpload(ctx context.Context, id string) (metadata.Upload, error) {
	u, err := s.uploads.GetUpload(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return metadata.Upload{}, fmt.Errorf("upload %s: %w", id, ErrUploadUnknown)
	}
	if err != nil {
		return metadata.Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	return u, nil
}

// Append writes body to session id at offset, which must equal the
// session's committed offset. With declared >= 0 the body must hold exactly
// declared bytes, and a shorter or longer body is discarded with
// ErrSizeMismatch. With declared < 0 (a streamed body of unknown length)
// the bytes that arrived before a broken connection are kept, so that the
// client can resume from the offset the session then reports.
func (s *Store) Append(ctx context.Context, id string, offset int64, body io.Reader, declared int64) (metadata.Upload, error) {
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return metadata.Upload{}, err
	}
	defer unlock()

	u, err := s.GetUpload(ctx, id)
	if err != nil {
		return metadata.Upload{}, err
	}
	if offset != u.Offset {
		return u, fmt.Errorf("upload %s: %w", id, &OffsetError{Expected: u.Offset, Got: offset})
	}
	h, err := unmarshalHash(u.HashState)
	if err != nil {
		return u, fmt.Errorf("upload %s: %w", id, err)
	}

	w, err := s.driver.Writer(ctx, uploadKey(id), u.Offset)
	if err != nil {
		return u, fmt.Errorf("upload %s: %w", id, err)
	}
	n, copyErr := copyDeclared(io.MultiWriter(w, h), body, declared)
	if copyErr != nil && (declared >= 0 || n == 0) {
		_ = w.Cancel(ctx)
		return u, fmt.Errorf("upload %s: %w", id, copyErr)
	}
	if err := w.Commit(ctx); err != nil {
		return u, fmt.Errorf("upload %s: %w", id, err)
	}

	previous := u.Offset
	u.Offset += n
	u.Updated = time.Now().UTC()
	if u.HashState, err = marshalHash(h); err != nil {
		return u, err
	}
	if err := s.uploads.AdvanceUpload(ctx, u, previous); err != nil {
		return u, fmt.Errorf("upload %s: %w", id, err)
	}
	if copyErr != nil {
		return u, fmt.Errorf("upload %s kept %d bytes of an interrupted body: %w", id, n, copyErr)
	}
	return u, nil
}

// copyDeclared copies body to w. With declared >= 0 it requires exactly
// declared bytes.
func copyDeclared(w io.Writer, body io.Reader, declared int64) (int64, error) {
	if declared < 0 {
		return io.Copy(w, body)
	}
	n, err := io.Copy(w, io.LimitReader(body, declared+1))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return n, fmt.Errorf("body ended after %d of %d declared bytes: %w", n, declared, ErrSizeMismatch)
	}
	if err != nil {
		return n, err
	}
	if n != declared {
		return n, fmt.Errorf("body has %d bytes, %d declared: %w", n, declared, ErrSizeMismatch)
	}
	return n, nil
}

// Commit checks that session id hashes to expected, stores its content as
// blob expected and closes the session. On a mismatch the session and its
// bytes are removed and ErrDigestMismatch is returned.
func (s *Store) Commit(ctx context.Context, id string, expected digest.Digest) (int64, error) {
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return 0, err
	}
	defer unlock()

	u, err := s.GetUpload(ctx, id)
	if err != nil {
		return 0, err
	}
	got, err := s.sessionDigest(ctx, u, expected.Algorithm())
	if err != nil {
		return 0, err
	}
	if got != expected {
		s.discard(ctx, id)
		return 0, fmt.Errorf("upload %s hashes to %s, expected %s: %w", id, got, expected, ErrDigestMismatch)
	}

	// Moving over an existing copy keeps one copy and repairs it if it was
	// damaged; readers that opened the old file finish reading it.
	if err := s.driver.Move(ctx, uploadKey(id), Key(expected)); err != nil {
		return 0, fmt.Errorf("commit upload %s as %s: %w", id, expected, err)
	}
	if err := s.uploads.DeleteUpload(ctx, id); err != nil && !errors.Is(err, metadata.ErrNotFound) {
		return 0, fmt.Errorf("close upload %s: %w", id, err)
	}
	return u.Offset, nil
}

// sessionDigest returns the digest of the session's bytes with algorithm a:
// from the saved SHA-256 state, or by reading the bytes again for another
// algorithm.
func (s *Store) sessionDigest(ctx context.Context, u metadata.Upload, a digest.Algorithm) (digest.Digest, error) {
	if a == digest.SHA256 {
		h, err := unmarshalHash(u.HashState)
		if err != nil {
			return "", fmt.Errorf("upload %s: %w", u.ID, err)
		}
		return digest.SHA256.FromHash(h), nil
	}
	rc, err := s.driver.Reader(ctx, uploadKey(u.ID), 0)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", u.ID, err)
	}
	defer rc.Close()
	h := a.New()
	if _, err := io.CopyN(h, rc, u.Offset); err != nil {
		return "", fmt.Errorf("rehash upload %s: %w", u.ID, err)
	}
	return a.FromHash(h), nil
}

// Cancel removes session id and its bytes.
func (s *Store) Cancel(ctx context.Context, id string) error {
	unlock, err := s.locks.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.GetUpload(ctx, id); err != nil {
		return err
	}
	s.discard(ctx, id)
	return nil
}

// discard removes a session's bytes and state; failures leave garbage
// that upload expiry removes later.
func (s *Store) discard(ctx context.Context, id string) {
	if err := s.driver.Delete(ctx, uploadKey(id)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		telemetry.Logger(ctx).Warn("upload bytes not removed", "upload", id, "error", err)
	}
	if err := s.uploads.DeleteUpload(ctx, id); err != nil && !errors.Is(err, metadata.ErrNotFound) {
		telemetry.Logger(ctx).Warn("upload state not removed", "upload", id, "error", err)
	}
}

func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate upload id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func marshalHash(h hash.Hash) ([]byte, error) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, errors.New("hash state cannot be saved")
	}
	return m.MarshalBinary()
}

func unmarshalHash(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("restore hash state: %w", err)
	}
	return h, nil
}
