package blob

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// BlobRows reads the metadata row of a blob. metadata.Blobs implements it.
type BlobRows interface {
	GetBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error)
}

// KeepUploadsInPlace makes a committed upload stay at the storage key it
// was written to, instead of moving to the blob's content key, and returns
// s. The caller records that key as the blob's location (metadata.Blob
// Location), and reads find it through rows. Use it on drivers whose Move
// copies the content (S3), so that committing a blob never copies it.
func (s *Store) KeepUploadsInPlace(rows BlobRows) *Store {
	s.rows = rows
	return s
}

// InPlace reports whether committed uploads stay where they were written.
func (s *Store) InPlace() bool { return s.rows != nil }

// place finishes a verified upload at key as blob d and returns the
// blob's location: key itself when uploads stay in place, else the content
// key, after moving key there.
func (s *Store) place(ctx context.Context, key string, d digest.Digest) (string, error) {
	if s.InPlace() {
		return key, nil
	}
	// Moving over an existing copy keeps one copy and repairs it if it was
	// damaged; readers that opened the old file finish reading it.
	if err := s.driver.Move(ctx, key, Key(d)); err != nil {
		return "", err
	}
	return Key(d), nil
}

// Settle runs after the caller recorded blob d, stored at location, in
// metadata. When the row already named other content (an earlier upload of
// the same digest), the bytes at location are a duplicate and are deleted.
// Failures leave an orphan key, which garbage collection removes.
func (s *Store) Settle(ctx context.Context, d digest.Digest, location string) {
	if !s.InPlace() || location == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	row, err := s.rows.GetBlob(ctx, d)
	if err != nil {
		telemetry.Logger(ctx).WarnContext(ctx, "blob location not checked", "digest", d, "key", location, "error", err)
		return
	}
	if row.Location == location {
		return
	}
	if err := s.driver.Delete(ctx, location); err != nil && !errors.Is(err, storage.ErrNotFound) {
		telemetry.Logger(ctx).WarnContext(ctx, "duplicate blob content not removed", "digest", d, "key", location, "error", err)
	}
}

// locate returns the storage key of blob d's content, or an error wrapping
// ErrNotFound when the blob has no row or is quarantined. known is the
// location of a row the caller already read, or "".
func (s *Store) locate(ctx context.Context, d digest.Digest, known string) (string, error) {
	if known == "" && s.InPlace() {
		row, err := s.rows.GetBlob(ctx, d)
		if errors.Is(err, metadata.ErrNotFound) {
			return "", fmt.Errorf("blob %s: %w", d, ErrNotFound)
		}
		if err != nil {
			return "", fmt.Errorf("locate blob %s: %w", d, err)
		}
		known = row.Location
	}
	if (metadata.Blob{Location: known}).Quarantined() {
		return "", fmt.Errorf("blob %s is quarantined: %w", d, ErrNotFound)
	}
	if known == "" {
		return Key(d), nil
	}
	return known, nil
}
