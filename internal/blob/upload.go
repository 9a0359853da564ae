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
	"strings"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/readahead"
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

// lockSession acquires session id in this process and then, when the
// sessions are shared with other processes, in the shared locks. Taking
// the local lock first means one request per process waits on the shared
// one.
func (s *Store) lockSession(ctx context.Context, id string) (func(), error) {
	unlockLocal, err := s.locks.lock(ctx, id)
	if err != nil || s.shared == nil {
		return unlockLocal, err
	}
	unlockShared, err := s.shared.LockSession(ctx, id)
	if err != nil {
		unlockLocal()
		return nil, fmt.Errorf("lock upload %s: %w", id, err)
	}
	return func() {
		unlockShared()
		unlockLocal()
	}, nil
}

// StartUpload opens an upload session for repo. The session's file is
// created by its first chunk.
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

// SettledUpload returns the state of session id once no request is
// writing to it, so that the offset it reports is final: a client that
// broke off a chunk learns how much of it the server kept. It waits at most
// until ctx ends.
func (s *Store) SettledUpload(ctx context.Context, id string) (metadata.Upload, error) {
	unlock, err := s.lockSession(ctx, id)
	if err != nil {
		return metadata.Upload{}, err
	}
	defer unlock()
	return s.GetUpload(ctx, id)
}

// Append writes body to session id at offset, which must equal the
// session's committed offset. With declared >= 0 the body must hold exactly
// declared bytes, and a shorter or longer body is discarded with
// ErrSizeMismatch. With declared < 0 (a streamed body of unknown length)
// the bytes that arrived before a broken connection are kept, so that the
// client can resume from the offset the session then reports.
func (s *Store) Append(ctx context.Context, id string, offset int64, body io.Reader, declared int64) (metadata.Upload, error) {
	unlock, err := s.lockSession(ctx, id)
	if err != nil {
		return metadata.Upload{}, err
	}
	defer unlock()

	u, h, err := s.openSession(ctx, id)
	if err != nil {
		return u, err
	}
	if offset != u.Offset {
		return u, fmt.Errorf("upload %s: %w", id, &OffsetError{Expected: u.Offset, Got: offset})
	}
	n, copyErr := s.writeChunk(ctx, u, h, body, declared, true)
	if n == 0 && copyErr != nil {
		return u, copyErr
	}

	previous := u.Offset
	u.Offset += n
	u.Updated = time.Now().UTC()
	if u.HashState, err = marshalHash(h); err != nil {
		return u, err
	}
	if err := s.uploads.AdvanceUpload(context.WithoutCancel(ctx), u, previous); err != nil {
		return u, fmt.Errorf("upload %s: %w", id, err)
	}
	if copyErr != nil {
		return u, fmt.Errorf("upload %s kept %d bytes of an interrupted body: %w", id, n, copyErr)
	}
	return u, nil
}

// openSession loads session id and restores its running SHA-256.
func (s *Store) openSession(ctx context.Context, id string) (metadata.Upload, hash.Hash, error) {
	u, err := s.GetUpload(ctx, id)
	if err != nil {
		return metadata.Upload{}, nil, err
	}
	h, err := unmarshalHash(u.HashState)
	if err != nil {
		return u, nil, fmt.Errorf("upload %s: %w", id, err)
	}
	return u, h, nil
}

// writeChunk writes body after the session's committed bytes and feeds it
// to h, then makes it durable. It returns how many bytes it kept: all of
// them, or with keepPartial and a body of unknown length (declared < 0), the
// bytes that arrived before an error; otherwise it keeps none.
func (s *Store) writeChunk(ctx context.Context, u metadata.Upload, h io.Writer, body io.Reader, declared int64, keepPartial bool) (int64, error) {
	var w storage.Writer
	var err error
	if u.Offset == 0 && declared > 0 {
		// A first chunk of known size, such as the body of a monolithic
		// push, can go to storage in one request (see storage.NewWriter).
		w, err = storage.NewWriter(ctx, s.driver, uploadKey(u.ID), declared)
	} else {
		w, err = s.driver.Writer(ctx, uploadKey(u.ID), u.Offset)
	}
	if err != nil {
		return 0, fmt.Errorf("upload %s: %w", u.ID, err)
	}
	n, copyErr := copyDeclared(io.MultiWriter(w, h), body, declared)
	if copyErr != nil && (!keepPartial || declared >= 0 || n == 0) {
		_ = w.Cancel(ctx)
		return 0, fmt.Errorf("upload %s: %w", u.ID, copyErr)
	}
	// The bytes that arrived are kept even when the client has gone: that
	// is what lets it resume.
	if err := w.Commit(context.WithoutCancel(ctx)); err != nil {
		return 0, fmt.Errorf("upload %s: %w", u.ID, err)
	}
	return n, copyErr
}

// copyBuffers hold the buffers of copyDeclared. Large reads from a request
// body mean fewer system calls per byte than io.Copy's 32 KiB.
var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 512<<10)
	return &b
}}

// copyDeclared copies body to w. With declared >= 0 it requires exactly
// declared bytes. A declared body of readahead.MinSize bytes or more is
// read ahead in a goroutine, so receiving the next bytes overlaps with
// hashing and storing the last ones. A body of unknown size is not,
// because the read-ahead reports a body cut short as a plain end, and only
// a declared size then shows that bytes are missing.
func copyDeclared(w io.Writer, body io.Reader, declared int64) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	if declared >= readahead.MinSize {
		// Closing the read-ahead waits for its read in progress. The body
		// itself stays open, because it belongs to the caller.
		ahead := readahead.New(io.NopCloser(body), len(*buf))
		defer ahead.Close()
		body = ahead
	}
	if declared < 0 {
		return io.CopyBuffer(w, body, *buf)
	}
	n, err := io.CopyBuffer(w, io.LimitReader(body, declared+1), *buf)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return n, fmt.Errorf("body ended after %d of %d declared bytes: %w", n, declared, ErrSizeMismatch)
	}
	if errors.Is(err, storage.ErrSizeMismatch) {
		// A writer opened for declared bytes rejected the extra byte.
		return n, fmt.Errorf("body has more than the %d declared bytes: %w", declared, ErrSizeMismatch)
	}
	if err != nil {
		return n, err
	}
	if n != declared {
		return n, fmt.Errorf("body has %d bytes, %d declared: %w", n, declared, ErrSizeMismatch)
	}
	return n, nil
}

// Commit writes an optional last chunk, checks that session id hashes to
// expected, stores its content as blob expected and closes the session. The
// last chunk is final with declared bytes; a nil final or a declared 0 means
// there is none. On
// a digest mismatch the session and its bytes are removed and
// ErrDigestMismatch is returned; on a failed last chunk the session stays
// as it was. It returns the blob's size and location (see place), which the
// caller records in metadata and then passes to Settle.
func (s *Store) Commit(ctx context.Context, id string, expected digest.Digest, final io.Reader, declared int64) (int64, string, error) {
	unlock, err := s.lockSession(ctx, id)
	if err != nil {
		return 0, "", err
	}
	defer unlock()

	u, h, err := s.openSession(ctx, id)
	if err != nil {
		return 0, "", err
	}
	var summer *chunkSummer
	if final != nil && declared != 0 {
		sink := io.Writer(h)
		if u.Offset == 0 {
			// The whole blob arrives in this request, as in a monolithic
			// push, so its chunk checksums come with it.
			if summer = s.uploadSummer(declared); summer != nil {
				sink = io.MultiWriter(h, summer)
			}
		}
		n, err := s.writeChunk(ctx, u, sink, final, declared, false)
		if err != nil {
			return 0, "", err
		}
		u.Offset += n
	} else if u.Offset == 0 {
		// An empty blob: no chunk created the file.
		if _, err := s.writeChunk(ctx, u, h, strings.NewReader(""), 0, false); err != nil {
			return 0, "", err
		}
	}

	got := digest.SHA256.FromHash(h)
	if expected.Algorithm() != digest.SHA256 {
		if got, err = s.rehash(ctx, uploadKey(id), u.Offset, expected.Algorithm()); err != nil {
			return 0, "", err
		}
	}
	if got != expected {
		s.discard(ctx, id)
		return 0, "", fmt.Errorf("upload %s hashes to %s, expected %s: %w", id, got, expected, ErrDigestMismatch)
	}

	// Every byte has arrived and matches: finish even if the client leaves
	// now, so that its retry finds the blob.
	ctx = context.WithoutCancel(ctx)

	location, err := s.place(ctx, uploadKey(id), expected)
	if err != nil {
		return 0, "", fmt.Errorf("commit upload %s as %s: %w", id, expected, err)
	}
	s.storeUploadSums(ctx, expected, summer, u.Offset)
	if err := s.uploads.DeleteUpload(ctx, id); err != nil && !errors.Is(err, metadata.ErrNotFound) {
		return 0, "", fmt.Errorf("close upload %s: %w", id, err)
	}
	return u.Offset, location, nil
}

// Put stores body as blob expected in one request, without an upload
// session: the bytes go to a fresh upload key, hashed with expected's
// algorithm while they stream, and are placed as the blob (see place) when
// the digest matches. A crash in between leaves an orphan upload key, which
// garbage collection removes. It returns the size and the location.
func (s *Store) Put(ctx context.Context, expected digest.Digest, body io.Reader, declared int64) (int64, string, error) {
	id, err := newSessionID()
	if err != nil {
		return 0, "", err
	}
	key := uploadKey(id)
	w, err := s.newOnePassWriter(ctx, key, declared)
	if err != nil {
		return 0, "", fmt.Errorf("write blob %s: %w", expected, err)
	}
	h := expected.Algorithm().New()
	summer := s.uploadSummer(declared)
	n, err := copyDeclared(hashingWriter(w, h, summer), body, declared)
	if err != nil {
		_ = w.Cancel(ctx)
		return 0, "", fmt.Errorf("write blob %s: %w", expected, err)
	}
	if got := expected.Algorithm().FromHash(h); got != expected {
		_ = w.Cancel(ctx)
		return 0, "", fmt.Errorf("content hashes to %s, expected %s: %w", got, expected, ErrDigestMismatch)
	}
	ctx = context.WithoutCancel(ctx) // every byte arrived: finish the commit
	if err := w.Commit(ctx); err != nil {
		return 0, "", fmt.Errorf("write blob %s: %w", expected, err)
	}
	location, err := s.place(ctx, key, expected)
	if err != nil {
		return 0, "", fmt.Errorf("commit blob %s: %w", expected, err)
	}
	s.storeUploadSums(ctx, expected, summer, n)
	return n, location, nil
}

// rehash returns the digest of the first size bytes of key with algorithm a.
func (s *Store) rehash(ctx context.Context, key string, size int64, a digest.Algorithm) (digest.Digest, error) {
	rc, err := s.driver.Reader(ctx, key, 0)
	if err != nil {
		return "", fmt.Errorf("rehash %s: %w", key, err)
	}
	defer rc.Close()
	h := a.New()
	if _, err := io.CopyN(h, rc, size); err != nil {
		return "", fmt.Errorf("rehash %s: %w", key, err)
	}
	return a.FromHash(h), nil
}

// Cancel removes session id and its bytes.
func (s *Store) Cancel(ctx context.Context, id string) error {
	unlock, err := s.lockSession(ctx, id)
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

// discard removes a session's bytes and state, even when the request that
// triggered it was cancelled. Failures leave garbage that upload expiry
// removes later.
func (s *Store) discard(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.driver.Delete(ctx, uploadKey(id)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		telemetry.Logger(ctx).WarnContext(ctx, "upload bytes not removed", "upload", id, "error", err)
	}
	if err := s.uploads.DeleteUpload(ctx, id); err != nil && !errors.Is(err, metadata.ErrNotFound) {
		telemetry.Logger(ctx).WarnContext(ctx, "upload state not removed", "upload", id, "error", err)
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

// Write stores body as a blob whose digest is not known in advance, as S3
// objects arrive. It hashes with SHA-256 while streaming, passes every byte
// to tee as well (for MD5 and checksums the caller needs), then commits the
// content under its digest. With declared >= 0 the body must hold exactly
// declared bytes. check runs after the last byte, with the content's
// digest, and before the commit; an error from it discards the bytes. It
// returns the digest, the size and the location (see place).
func (s *Store) Write(ctx context.Context, body io.Reader, declared int64, tee io.Writer, check func(digest.Digest) error) (digest.Digest, int64, string, error) {
	j, err := s.newJoin(ctx, declared)
	if err != nil {
		return "", 0, "", err
	}
	if _, err := j.Append(body, declared, tee); err != nil {
		j.Cancel(ctx)
		return "", 0, "", fmt.Errorf("write blob: %w", err)
	}
	return j.Commit(ctx, check)
}

// newOnePassWriter opens the upload key of a blob written in one request.
// Unless uploads stay in place, place moves the key to the blob's content
// key right after Commit, so the upload key is temporary.
func (s *Store) newOnePassWriter(ctx context.Context, key string, declared int64) (storage.Writer, error) {
	if s.InPlace() {
		return storage.NewWriter(ctx, s.driver, key, declared)
	}
	return storage.NewTempWriter(ctx, s.driver, key, declared)
}

// hashingWriter returns a writer that passes every byte to w, h and, when
// it is not nil, summer.
func hashingWriter(w io.Writer, h hash.Hash, summer *chunkSummer) io.Writer {
	if summer == nil {
		return io.MultiWriter(w, h)
	}
	return io.MultiWriter(w, h, summer)
}
