package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// findBatch is how many values one IN list of FindBlobs or FindStagedKeys
// holds, well below SQLite's limit of 32766 parameters.
const findBatch = 500

// ListBlobs returns up to limit blob rows with digests after the cursor, in
// byte order. A limit of zero or less returns every remaining row.
func (s *Store) ListBlobs(ctx context.Context, after digest.Digest, limit int) ([]metadata.Blob, error) {
	const query = `SELECT digest, size, location FROM blobs WHERE digest > ? ORDER BY digest LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, string(after), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list blobs after %q: %w", after, err)
	}
	defer rows.Close()

	var blobs []metadata.Blob
	for rows.Next() {
		var b metadata.Blob
		var d string
		if err := rows.Scan(&d, &b.Size, &b.Location); err != nil {
			return nil, fmt.Errorf("list blobs after %q: %w", after, err)
		}
		b.Digest = digest.Digest(d)
		blobs = append(blobs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list blobs after %q: %w", after, err)
	}
	return blobs, nil
}

// FindBlobs returns the digests among ds that have a blob row, in byte order.
func (s *Store) FindBlobs(ctx context.Context, ds []digest.Digest) ([]digest.Digest, error) {
	values := make([]string, len(ds))
	for i, d := range ds {
		values[i] = string(d)
	}
	found, err := s.findExisting(ctx, `SELECT digest FROM blobs WHERE digest IN `, values)
	if err != nil {
		return nil, fmt.Errorf("find blob rows: %w", err)
	}
	out := make([]digest.Digest, len(found))
	for i, v := range found {
		out[i] = digest.Digest(v)
	}
	return out, nil
}

// FindStagedKeys returns the storage keys among keys that a multipart part
// row records, in byte order.
func (s *Store) FindStagedKeys(ctx context.Context, keys []string) ([]string, error) {
	found, err := s.findExisting(ctx, `SELECT DISTINCT storage_key FROM multipart_parts WHERE storage_key IN `, keys)
	if err != nil {
		return nil, fmt.Errorf("find staged part keys: %w", err)
	}
	return found, nil
}

// FindBlobLocations returns the storage keys among keys that are the
// location of a blob row, in byte order.
func (s *Store) FindBlobLocations(ctx context.Context, keys []string) ([]string, error) {
	found, err := s.findExisting(ctx, `SELECT location FROM blobs WHERE location <> '' AND location IN `, keys)
	if err != nil {
		return nil, fmt.Errorf("find blob locations: %w", err)
	}
	return found, nil
}

// SetBlobLocation changes the location of blob d from from to to, or
// returns an error wrapping metadata.ErrConflict when the row's location is
// not from, or metadata.ErrNotFound when there is no row.
func (s *Store) SetBlobLocation(ctx context.Context, d digest.Digest, from, to string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var current string
		err := tx.QueryRowContext(ctx, `SELECT location FROM blobs WHERE digest = ?`, string(d)).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read location of blob %s: %w", d, err)
		}
		if current != from {
			return fmt.Errorf("blob %s is at %q, not %q: %w", d, current, from, metadata.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE blobs SET location = ? WHERE digest = ?`, to, string(d)); err != nil {
			return fmt.Errorf("set location of blob %s: %w", d, err)
		}
		return nil
	})
}

// findExisting runs query, which ends in "IN ", with batches of values as
// its list, and returns the first column of every row, sorted and without
// repeats.
func (s *Store) findExisting(ctx context.Context, query string, values []string) ([]string, error) {
	var found []string
	for batch := range slices.Chunk(values, findBatch) {
		rows, err := s.queryStrings(ctx, query+"("+strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",")+")", batch)
		if err != nil {
			return nil, err
		}
		found = append(found, rows...)
	}
	slices.Sort(found)
	return slices.Compact(found), nil
}

// queryStrings runs query with args and returns the first column of every
// row.
func (s *Store) queryStrings(ctx context.Context, query string, args []string) ([]string, error) {
	values := make([]any, len(args))
	for i, v := range args {
		values[i] = v
	}
	rows, err := s.reader.QueryContext(ctx, query, values...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ListUnreferencedBlobs returns up to limit blobs with digests after the
// cursor, in byte order, whose reference count has been zero since before
// the given time. A limit of zero or less returns every remaining blob.
func (s *Store) ListUnreferencedBlobs(ctx context.Context, before time.Time, after digest.Digest, limit int) ([]metadata.UnreferencedBlob, error) {
	const query = `SELECT digest, size, zero_since,
			EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = blobs.digest)
		FROM blobs
		WHERE refcount = 0 AND zero_since < ? AND digest > ?
		ORDER BY digest LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, before.UTC().UnixNano(), string(after), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list unreferenced blobs: %w", err)
	}
	defer rows.Close()

	var blobs []metadata.UnreferencedBlob
	for rows.Next() {
		var b metadata.UnreferencedBlob
		var d string
		var zeroSince int64
		if err := rows.Scan(&d, &b.Size, &zeroSince, &b.Linked); err != nil {
			return nil, fmt.Errorf("list unreferenced blobs: %w", err)
		}
		b.Digest = digest.Digest(d)
		b.ZeroSince = fromUnixNano(zeroSince)
		blobs = append(blobs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list unreferenced blobs: %w", err)
	}
	return blobs, nil
}

// UnlinkUnreferencedBlob removes the repository links of blob d and
// restarts its zero_since when its reference count has been zero since
// before the given time. The check and the change run in one write
// transaction, and SQLite runs one write transaction at a time, so no
// PutManifest can use a link in between. A blob without links is left as it
// is.
func (s *Store) UnlinkUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (int64, error) {
	var removed int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := checkUnreferenced(ctx, tx, d, before); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM repository_blobs WHERE digest = ?`, string(d))
		if err != nil {
			return fmt.Errorf("delete repository links: %w", err)
		}
		if removed, err = res.RowsAffected(); err != nil || removed == 0 {
			return err
		}
		const restart = `UPDATE blobs SET zero_since = ? WHERE digest = ?`
		if _, err := tx.ExecContext(ctx, restart, time.Now().UTC().UnixNano(), string(d)); err != nil {
			return fmt.Errorf("restart grace period: %w", err)
		}
		return nil
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrConflict) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("unlink unreferenced blob %s: %w", d, err)
	}
	return removed, nil
}

// DeleteUnreferencedBlob deletes the row of blob d when no repository links
// it, its reference count has been zero since before the given time, and no
// manifest or object row names it, all checked in the write transaction
// that deletes it.
func (s *Store) DeleteUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (metadata.UnreferencedBlob, error) {
	var b metadata.UnreferencedBlob
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		if b, err = checkUnreferenced(ctx, tx, d, before); err != nil {
			return err
		}

		var linked, named bool
		const query = `SELECT EXISTS (SELECT 1 FROM repository_blobs WHERE digest = ?1),
			EXISTS (SELECT 1 FROM manifest_blobs WHERE blob_digest = ?1)
				OR EXISTS (SELECT 1 FROM objects WHERE blob = ?1)`
		if err := tx.QueryRowContext(ctx, query, string(d)).Scan(&linked, &named); err != nil {
			return fmt.Errorf("look up references: %w", err)
		}
		if linked {
			return fmt.Errorf("blob %s is linked to a repository: %w", d, metadata.ErrConflict)
		}
		if named {
			return fmt.Errorf("blob %s has a reference count of zero but manifests or objects name it: %w", d, metadata.ErrConflict)
		}

		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE digest = ?`, string(d)); err != nil {
			return fmt.Errorf("delete blob row: %w", err)
		}
		return nil
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrConflict) {
		return metadata.UnreferencedBlob{}, err
	}
	if err != nil {
		return metadata.UnreferencedBlob{}, fmt.Errorf("delete unreferenced blob %s: %w", d, err)
	}
	return b, nil
}

// checkUnreferenced reads the row of blob d and returns it when its
// reference count is zero and has been zero since before the given time,
// else an error wrapping metadata.ErrConflict, or metadata.ErrNotFound when
// there is no row. Linked is left false.
func checkUnreferenced(ctx context.Context, tx *sql.Tx, d digest.Digest, before time.Time) (metadata.UnreferencedBlob, error) {
	b := metadata.UnreferencedBlob{Digest: d}
	var refcount int64
	var zeroSince sql.NullInt64
	const query = `SELECT size, location, refcount, zero_since FROM blobs WHERE digest = ?`
	err := tx.QueryRowContext(ctx, query, string(d)).Scan(&b.Size, &b.Location, &refcount, &zeroSince)
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("read blob row: %w", err)
	}
	if refcount != 0 || !zeroSince.Valid {
		return b, fmt.Errorf("blob %s has %d references: %w", d, refcount, metadata.ErrConflict)
	}
	b.ZeroSince = fromUnixNano(zeroSince.Int64)
	if !b.ZeroSince.Before(before) {
		return b, fmt.Errorf("blob %s is unreferenced only since %s: %w", d, b.ZeroSince.Format(time.RFC3339Nano), metadata.ErrConflict)
	}
	return b, nil
}

// restartGracePeriod sets the zero_since of blob d to the current time
// when nothing references the blob.
func (s *Store) restartGracePeriod(ctx context.Context, d digest.Digest) error {
	const restart = `UPDATE blobs SET zero_since = ? WHERE digest = ? AND refcount = 0`
	if _, err := s.writer.ExecContext(ctx, restart, time.Now().UTC().UnixNano(), string(d)); err != nil {
		return fmt.Errorf("restart grace period of blob %s: %w", d, err)
	}
	return nil
}

// ListUploadsBefore returns up to limit upload sessions with IDs after the
// cursor, in byte order, that were last updated before the given time. A
// limit of zero or less returns every remaining session.
func (s *Store) ListUploadsBefore(ctx context.Context, before time.Time, after string, limit int) ([]metadata.Upload, error) {
	const query = `SELECT id, repository, offset_bytes, hash_state, created, updated FROM uploads
		WHERE updated < ? AND id > ?
		ORDER BY id LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, before.UTC().UnixNano(), after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	defer rows.Close()

	var uploads []metadata.Upload
	for rows.Next() {
		var u metadata.Upload
		var created, updated int64
		if err := rows.Scan(&u.ID, &u.Repository, &u.Offset, &u.HashState, &created, &updated); err != nil {
			return nil, fmt.Errorf("list stale uploads: %w", err)
		}
		u.Created = fromUnixNano(created)
		u.Updated = fromUnixNano(updated)
		uploads = append(uploads, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	return uploads, nil
}
