package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateUpload stores a new upload session. Zero Created or Updated times are
// stored as the current time. An ID that is already in use returns an error
// wrapping metadata.ErrConflict. Creating an upload does not create its
// repository.
func (s *Store) CreateUpload(ctx context.Context, u metadata.Upload) error {
	now := time.Now()
	const insert = `INSERT INTO uploads (id, repository, offset_bytes, hash_state, created, updated)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
	res, err := s.writer.ExecContext(ctx, insert, u.ID, u.Repository, u.Offset, u.HashState,
		unixNano(u.Created, now), unixNano(u.Updated, now))
	if err != nil {
		return fmt.Errorf("create upload %s in %s: %w", u.ID, u.Repository, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("create upload %s in %s: %w", u.ID, u.Repository, err)
	}
	if n == 0 {
		return fmt.Errorf("upload %s already exists: %w", u.ID, metadata.ErrConflict)
	}
	return nil
}

// GetUpload returns the upload session with the given id, or an error
// wrapping metadata.ErrNotFound.
func (s *Store) GetUpload(ctx context.Context, id string) (metadata.Upload, error) {
	const query = `SELECT repository, offset_bytes, hash_state, created, updated FROM uploads WHERE id = ?`
	u := metadata.Upload{ID: id}
	var created, updated int64
	err := s.reader.QueryRowContext(ctx, query, id).Scan(&u.Repository, &u.Offset, &u.HashState, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.Upload{}, fmt.Errorf("upload %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Upload{}, fmt.Errorf("get upload %s: %w", id, err)
	}
	u.Created = fromUnixNano(created)
	u.Updated = fromUnixNano(updated)
	return u, nil
}

// AdvanceUpload stores the offset, hash state and update time of u when the
// stored offset still equals previousOffset. A zero u.Updated is stored as
// the current time. The repository and creation time never change. A stale
// previousOffset returns an error wrapping metadata.ErrConflict, and an
// unknown id one wrapping metadata.ErrNotFound.
func (s *Store) AdvanceUpload(ctx context.Context, u metadata.Upload, previousOffset int64) error {
	updated := unixNano(u.Updated, time.Now())
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		const update = `UPDATE uploads SET offset_bytes = ?, hash_state = ?, updated = ?
			WHERE id = ? AND offset_bytes = ?`
		res, err := tx.ExecContext(ctx, update, u.Offset, u.HashState, updated, u.ID, previousOffset)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 1 {
			return err
		}

		// No row matched, so tell a moved offset apart from a missing session.
		var stored int64
		err = tx.QueryRowContext(ctx, `SELECT offset_bytes FROM uploads WHERE id = ?`, u.ID).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("upload %s: %w", u.ID, metadata.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("upload %s is at offset %d, not %d: %w", u.ID, stored, previousOffset, metadata.ErrConflict)
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrConflict) {
		return err
	}
	if err != nil {
		return fmt.Errorf("advance upload %s: %w", u.ID, err)
	}
	return nil
}

// DeleteUpload removes the upload session, or returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM uploads WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete upload %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("upload %s: %w", id, metadata.ErrNotFound)
	}
	return nil
}
