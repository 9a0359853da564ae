package blob

import (
	"context"
	"fmt"
	"hash"
	"io"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/storage"
)

// Join writes one blob from several bodies appended in turn, such as the
// parts of an S3 multipart upload. It hashes every byte with SHA-256 as it
// is written, and Commit stores the content under its digest. A Join is
// used by one goroutine at a time.
type Join struct {
	store  *Store
	key    string
	w      storage.Writer
	hash   hash.Hash
	summer *chunkSummer
	size   int64
}

// NewJoin starts a blob whose size is not known in advance. The caller
// must end it with Commit or Cancel.
func (s *Store) NewJoin(ctx context.Context) (*Join, error) {
	return s.newJoin(ctx, -1)
}

// newJoin starts a blob of declared bytes, or of unknown size when
// declared is negative.
func (s *Store) newJoin(ctx context.Context, declared int64) (*Join, error) {
	id, err := newSessionID()
	if err != nil {
		return nil, err
	}
	key := uploadKey(id)
	w, err := s.newOnePassWriter(ctx, key, declared)
	if err != nil {
		return nil, fmt.Errorf("write blob: %w", err)
	}
	return &Join{store: s, key: key, w: w, hash: digest.SHA256.New(), summer: s.uploadSummer(declared)}, nil
}

// Size returns the number of bytes appended so far.
func (j *Join) Size() int64 { return j.size }

// Append writes body after the bytes appended so far. With declared >= 0
// the body must hold exactly declared bytes. Every byte also goes to tee
// when it is not nil. After an error the content is incomplete, and the
// caller must Cancel.
func (j *Join) Append(body io.Reader, declared int64, tee io.Writer) (int64, error) {
	n, err := copyTee(hashingWriter(j.w, j.hash, j.summer), tee, body, declared)
	j.size += n
	return n, err
}

// Commit runs check, when it is not nil, with the digest of the content,
// then stores the content as that blob. It returns the digest, the size
// and the location (see place). After a failed check the content is
// discarded. After any other error the caller must Cancel.
func (j *Join) Commit(ctx context.Context, check func(digest.Digest) error) (digest.Digest, int64, string, error) {
	d := digest.SHA256.FromHash(j.hash)
	if check != nil {
		if err := check(d); err != nil {
			j.Cancel(ctx)
			return "", 0, "", fmt.Errorf("write blob: %w", err)
		}
	}
	ctx = context.WithoutCancel(ctx) // every byte arrived: finish the commit
	if err := j.w.Commit(ctx); err != nil {
		return "", 0, "", fmt.Errorf("write blob %s: %w", d, err)
	}
	location, err := j.store.place(ctx, j.key, d)
	if err != nil {
		return "", 0, "", fmt.Errorf("commit blob %s: %w", d, err)
	}
	j.store.storeUploadSums(ctx, d, j.summer, j.size)
	return d, j.size, location, nil
}

// Cancel discards the content. It is safe to call more than once, and
// after a failed Commit.
func (j *Join) Cancel(ctx context.Context) {
	_ = j.w.Cancel(context.WithoutCancel(ctx))
}
