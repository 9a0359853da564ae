package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ListBlobs returns up to limit blob rows with digests after the cursor, in
// byte order. A limit of zero or less returns every remaining row.
func (s *Store) ListBlobs(ctx context.Context, after digest.Digest, limit int) ([]metadata.Blob, error) {
	const query = `SELECT digest, size, location FROM blobs WHERE digest > $1 ORDER BY digest LIMIT $2`
	rows, err := s.pool.Query(ctx, query, string(after), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list blobs after %q: %w", after, err)
	}
	blobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Blob, error) {
		var b metadata.Blob
		var d string
		err := row.Scan(&d, &b.Size, &b.Location)
		b.Digest = digest.Digest(d)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs after %q: %w", after, err)
	}
	return blobs, nil
}

// FindBlobs returns the digests among ds that have a blob row, in byte order.
func (s *Store) FindBlobs(ctx context.Context, ds []digest.Digest) ([]digest.Digest, error) {
	values := make([]string, 0, len(ds))
	for _, d := range ds {
		if storable(string(d)) {
			values = append(values, string(d))
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT digest FROM blobs WHERE digest = ANY($1) ORDER BY digest`, values)
	if err != nil {
		return nil, fmt.Errorf("find blob rows: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[digest.Digest])
	if err != nil {
		return nil, fmt.Errorf("find blob rows: %w", err)
	}
	return found, nil
}

// FindBlobLocations returns the storage keys among keys that are the
// location of a blob row, in byte order.
func (s *Store) FindBlobLocations(ctx context.Context, keys []string) ([]string, error) {
	values := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return !storable(k) })
	const query = `SELECT DISTINCT location COLLATE "C" FROM blobs
		WHERE location <> '' AND location = ANY($1) ORDER BY 1`
	rows, err := s.pool.Query(ctx, query, values)
	if err != nil {
		return nil, fmt.Errorf("find blob locations: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find blob locations: %w", err)
	}
	return found, nil
}

// SetBlobLocation changes the location of blob d from from to to, or
// returns an error wrapping metadata.ErrConflict when the row's location is
// not from, or metadata.ErrNotFound when there is no row.
func (s *Store) SetBlobLocation(ctx context.Context, d digest.Digest, from, to string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		var current string
		err := tx.QueryRow(ctx, `SELECT location FROM blobs WHERE digest = $1 FOR UPDATE`, string(d)).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read location of blob %s: %w", d, err)
		}
		if current != from {
			return fmt.Errorf("blob %s is at %q, not %q: %w", d, current, from, metadata.ErrConflict)
		}
		if _, err := tx.Exec(ctx, `UPDATE blobs SET location = $1 WHERE digest = $2`, to, string(d)); err != nil {
			return fmt.Errorf("set location of blob %s: %w", d, err)
		}
		return nil
	})
}

// FindStagedKeys returns the storage keys among keys that a multipart part
// row records, in byte order.
func (s *Store) FindStagedKeys(ctx context.Context, keys []string) ([]string, error) {
	values := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return !storable(k) })
	const query = `SELECT DISTINCT storage_key COLLATE "C" FROM multipart_parts
		WHERE storage_key = ANY($1) ORDER BY 1`
	rows, err := s.pool.Query(ctx, query, values)
	if err != nil {
		return nil, fmt.Errorf("find staged part keys: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find staged part keys: %w", err)
	}
	return found, nil
}

// ListUnreferencedBlobs returns up to limit blobs with digests after the
// cursor, in byte order, whose reference count has been zero since before
// the given time. A limit of zero or less returns every remaining blob.
func (s *Store) ListUnreferencedBlobs(ctx context.Context, before time.Time, after digest.Digest, limit int) ([]metadata.UnreferencedBlob, error) {
	const query = `SELECT digest, size, zero_since,
			EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = blobs.digest)
		FROM blobs
		WHERE refcount = 0 AND zero_since < $1 AND digest > $2
		ORDER BY digest LIMIT $3`
	rows, err := s.pool.Query(ctx, query, before.UTC().UnixNano(), string(after), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list unreferenced blobs: %w", err)
	}
	blobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.UnreferencedBlob, error) {
		var b metadata.UnreferencedBlob
		var d string
		var zeroSince int64
		err := row.Scan(&d, &b.Size, &zeroSince, &b.Linked)
		b.Digest = digest.Digest(d)
		b.ZeroSince = fromUnixNano(zeroSince)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list unreferenced blobs: %w", err)
	}
	return blobs, nil
}

// UnlinkUnreferencedBlob removes the repository links of blob d and
// restarts its zero_since when its reference count has been zero since
// before the given time. A blob without links is left as it is.
//
// It deletes the links before it locks the blob row. A PutManifest that
// checked a link holds it with FOR KEY SHARE until it has counted its
// reference on the blob row, so the delete waits for that PutManifest, and
// the check then finds the count it added. A PutManifest that checks a link
// after the delete waits for this transaction and finds no link if it
// commits.
func (s *Store) UnlinkUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (int64, error) {
	var removed int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM repository_blobs WHERE digest = $1`, string(d))
		if err != nil {
			return fmt.Errorf("delete repository links: %w", err)
		}
		removed = tag.RowsAffected()
		if _, err := checkUnreferenced(ctx, tx, d, before); err != nil {
			return err
		}
		if removed == 0 {
			return nil
		}
		const restart = `UPDATE blobs SET zero_since = $2 WHERE digest = $1`
		if _, err := tx.Exec(ctx, restart, string(d), time.Now().UTC().UnixNano()); err != nil {
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
// manifest or object row names it. The row stays locked with FOR UPDATE from
// the check to the delete. LinkBlob and PutObject lock it, or take FOR KEY
// SHARE on it when they insert a link or an object row, so they wait for
// the delete and then create a new row.
func (s *Store) DeleteUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (metadata.UnreferencedBlob, error) {
	var b metadata.UnreferencedBlob
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if b, err = checkUnreferenced(ctx, tx, d, before); err != nil {
			return err
		}

		var linked, named bool
		const query = `SELECT EXISTS (SELECT 1 FROM repository_blobs WHERE digest = $1),
			EXISTS (SELECT 1 FROM manifest_blobs WHERE blob_digest = $1)
				OR EXISTS (SELECT 1 FROM objects WHERE blob = $1)`
		if err := tx.QueryRow(ctx, query, string(d)).Scan(&linked, &named); err != nil {
			return fmt.Errorf("look up references: %w", err)
		}
		if linked {
			return fmt.Errorf("blob %s is linked to a repository: %w", d, metadata.ErrConflict)
		}
		if named {
			return fmt.Errorf("blob %s has a reference count of zero but manifests or objects name it: %w", d, metadata.ErrConflict)
		}

		if _, err := tx.Exec(ctx, `DELETE FROM blobs WHERE digest = $1`, string(d)); err != nil {
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

// checkUnreferenced locks the row of blob d with FOR UPDATE and returns it
// when its reference count is zero and has been zero since before the given
// time, else an error wrapping metadata.ErrConflict, or metadata.ErrNotFound
// when there is no row. Linked is left false.
func checkUnreferenced(ctx context.Context, tx pgx.Tx, d digest.Digest, before time.Time) (metadata.UnreferencedBlob, error) {
	b := metadata.UnreferencedBlob{Digest: d}
	var refcount int64
	var zeroSince *int64
	const query = `SELECT size, location, refcount, zero_since FROM blobs WHERE digest = $1 FOR UPDATE`
	err := tx.QueryRow(ctx, query, string(d)).Scan(&b.Size, &b.Location, &refcount, &zeroSince)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("read blob row: %w", err)
	}
	if refcount != 0 || zeroSince == nil {
		return b, fmt.Errorf("blob %s has %d references: %w", d, refcount, metadata.ErrConflict)
	}
	b.ZeroSince = fromUnixNano(*zeroSince)
	if !b.ZeroSince.Before(before) {
		return b, fmt.Errorf("blob %s is unreferenced only since %s: %w", d, b.ZeroSince.Format(time.RFC3339Nano), metadata.ErrConflict)
	}
	return b, nil
}

// restartGracePeriod sets the zero_since of blob d to the current time
// when nothing references the blob and its zero_since is at least
// metadata.GraceRestartInterval old. Concurrent lookups of one blob all see
// the old value. The first of their updates restarts it, and the others wait
// for its row lock, then find the new value too young and write nothing.
func (s *Store) restartGracePeriod(ctx context.Context, d digest.Digest) error {
	now := time.Now().UTC().UnixNano()
	const restart = `UPDATE blobs SET zero_since = $2
		WHERE digest = $1 AND refcount = 0 AND COALESCE(zero_since, 0) <= $3`
	if _, err := s.pool.Exec(ctx, restart, string(d), now, now-metadata.GraceRestartInterval.Nanoseconds()); err != nil {
		return fmt.Errorf("restart grace period of blob %s: %w", d, err)
	}
	return nil
}

// ListUploadsBefore returns up to limit upload sessions with IDs after the
// cursor, in byte order, that were last updated before the given time. A
// limit of zero or less returns every remaining session.
func (s *Store) ListUploadsBefore(ctx context.Context, before time.Time, after string, limit int) ([]metadata.Upload, error) {
	lower, ok := ceilText(after + "\x00")
	if !ok {
		return nil, nil
	}
	const query = `SELECT id, repository, offset_bytes, hash_state, created, updated FROM uploads
		WHERE updated < $1 AND id >= $2
		ORDER BY id LIMIT $3`
	rows, err := s.pool.Query(ctx, query, before.UTC().UnixNano(), lower, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	uploads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Upload, error) {
		var u metadata.Upload
		var created, updated int64
		err := row.Scan(&u.ID, &u.Repository, &u.Offset, &u.HashState, &created, &updated)
		u.Created = fromUnixNano(created)
		u.Updated = fromUnixNano(updated)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("list stale uploads: %w", err)
	}
	return uploads, nil
}
