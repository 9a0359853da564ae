package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cofferhq/coffer/internal/storage"
)

// Staged content is written durably under uploads/ without a digest of its
// own, for pieces that later become part of a blob, such as the parts of an
// S3 multipart upload. The caller records the returned key and deletes it
// when the piece is no longer needed.

// Stage writes body to a new staging key and makes it durable. With
// declared >= 0 the body must hold exactly declared bytes. Every byte also
// goes to tee; check runs after the last byte, and an error from it
// discards the bytes.
func (s *Store) Stage(ctx context.Context, body io.Reader, declared int64, tee io.Writer, check func() error) (string, int64, error) {
	id, err := newSessionID()
	if err != nil {
		return "", 0, err
	}
	key := uploadKey("part-" + id)
	w, err := storage.NewWriter(ctx, s.driver, key, declared)
	if err != nil {
		return "", 0, fmt.Errorf("stage: %w", err)
	}
	n, err := copyTee(w, tee, body, declared)
	if err == nil && check != nil {
		err = check()
	}
	if err != nil {
		_ = w.Cancel(context.WithoutCancel(ctx))
		return "", 0, fmt.Errorf("stage: %w", err)
	}
	if err := w.Commit(context.WithoutCancel(ctx)); err != nil {
		return "", 0, fmt.Errorf("stage %s: %w", key, err)
	}
	return key, n, nil
}

// OpenStaged opens staged content.
func (s *Store) OpenStaged(ctx context.Context, key string) (io.ReadCloser, error) {
	if !strings.HasPrefix(key, "uploads/part-") {
		return nil, fmt.Errorf("open staged %q: %w", key, storage.ErrInvalidKey)
	}
	rc, err := s.driver.Reader(ctx, key, 0)
	if err != nil {
		return nil, fmt.Errorf("open staged %s: %w", key, err)
	}
	return rc, nil
}

// DeleteStaged removes staged content; a missing key is not an error.
func (s *Store) DeleteStaged(ctx context.Context, key string) error {
	if !strings.HasPrefix(key, "uploads/part-") {
		return fmt.Errorf("delete staged %q: %w", key, storage.ErrInvalidKey)
	}
	err := s.driver.Delete(ctx, key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("delete staged %s: %w", key, err)
	}
	return nil
}
