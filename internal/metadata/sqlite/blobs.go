package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// LinkBlob records b when it is new, creates repo when it is new, and links
// the blob to the repository. Linking a blob that is already linked does
// nothing. An existing blob row keeps its size and reference count. While
// that count is zero, its zero_since restarts at the current time, so that
// garbage collection gives the push that linked it a full grace period.
// An existing row keeps its location unless it is quarantined and b has one.
func (s *Store) LinkBlob(ctx context.Context, repo string, b metadata.Blob) error {
	now := time.Now()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		const insertBlob = `INSERT INTO blobs (digest, size, created, refcount, location) VALUES (?, ?, ?, 0, ?)
			ON CONFLICT (digest) DO UPDATE SET
				zero_since = CASE WHEN blobs.refcount = 0 THEN excluded.created ELSE blobs.zero_since END,
				location = ` + repairLocation + `
			WHERE blobs.refcount = 0 OR ` + quarantinedRepair
		if _, err := tx.ExecContext(ctx, insertBlob, string(b.Digest), b.Size, now.UTC().UnixNano(), b.Location); err != nil {
			return err
		}

		repoID, err := ensureRepository(ctx, tx, repo, now)
		if err != nil {
			return err
		}

		const insertLink = `INSERT INTO repository_blobs (repository_id, digest, created) VALUES (?, ?, ?)
			ON CONFLICT (repository_id, digest) DO NOTHING`
		_, err = tx.ExecContext(ctx, insertLink, repoID, string(b.Digest), now.UTC().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("link blob %s to %s: %w", b.Digest, repo, err)
	}
	return nil
}

// lookupBlobQuery selects the size, reference count and zero_since of a
// blob linked to a repository.
const lookupBlobQuery = `SELECT b.size, b.location, b.refcount, COALESCE(b.zero_since, 0)
	FROM repositories r
	JOIN repository_blobs rb ON rb.repository_id = r.id
	JOIN blobs b ON b.digest = rb.digest
	WHERE r.name = ? AND rb.digest = ?`

// LookupBlob returns the blob when it is linked to repo, else an error
// wrapping metadata.ErrNotFound. Looking up a blob that nothing references
// restarts its zero_since, because a client that finds the blob skips its
// upload and may reference it in a manifest next. A zero_since younger than
// metadata.GraceRestartInterval is left alone, so that repeated lookups do
// not each write.
func (s *Store) LookupBlob(ctx context.Context, repo string, d digest.Digest) (metadata.Blob, error) {
	b := metadata.Blob{Digest: d}
	var refcount, zeroSince int64
	err := s.read.lookupBlob.QueryRowContext(ctx, repo, string(d)).Scan(&b.Size, &b.Location, &refcount, &zeroSince)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.Blob{}, fmt.Errorf("blob %s in %s: %w", d, repo, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Blob{}, fmt.Errorf("look up blob %s in %s: %w", d, repo, err)
	}
	if refcount == 0 && time.Now().UnixNano()-zeroSince >= metadata.GraceRestartInterval.Nanoseconds() {
		if err := s.restartGracePeriod(ctx, d); err != nil {
			return metadata.Blob{}, fmt.Errorf("look up blob %s in %s: %w", d, repo, err)
		}
	}
	return b, nil
}

// StatBlob returns the blob when any repository links it, else an error
// wrapping metadata.ErrNotFound. A blob row that no repository links any
// more is not found, although its content may still be stored.
func (s *Store) StatBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error) {
	b := metadata.Blob{Digest: d}
	const query = `SELECT size, location FROM blobs
		WHERE digest = ? AND EXISTS (SELECT 1 FROM repository_blobs WHERE digest = blobs.digest)`
	err := s.reader.QueryRowContext(ctx, query, string(d)).Scan(&b.Size, &b.Location)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.Blob{}, fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Blob{}, fmt.Errorf("stat blob %s: %w", d, err)
	}
	return b, nil
}

// GetBlob returns the row of blob d, linked or not, else an error wrapping
// metadata.ErrNotFound.
func (s *Store) GetBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error) {
	b := metadata.Blob{Digest: d}
	err := s.read.getBlob.QueryRowContext(ctx, string(d)).Scan(&b.Size, &b.Location)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.Blob{}, fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Blob{}, fmt.Errorf("get blob %s: %w", d, err)
	}
	return b, nil
}

// getBlobQuery reads a blob's row. Every object read runs it.
const getBlobQuery = `SELECT size, location FROM blobs WHERE digest = ?`

// repairLocation is the location an upsert of a blob row keeps: the row's
// own, unless the row is quarantined and the new one names fresh content.
const repairLocation = `CASE WHEN ` + quarantinedRepair + ` THEN excluded.location ELSE blobs.location END`

// quarantinedRepair holds when an upsert replaces a quarantined row's
// location with fresh content.
const quarantinedRepair = `(blobs.location LIKE 'quarantine/%' AND excluded.location <> '')`

// UnlinkBlob removes the link between repo and the blob, or returns an error
// wrapping metadata.ErrNotFound when there is none. The blob row and its
// reference count stay.
func (s *Store) UnlinkBlob(ctx context.Context, repo string, d digest.Digest) error {
	const del = `DELETE FROM repository_blobs
		WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND digest = ?`
	res, err := s.writer.ExecContext(ctx, del, repo, string(d))
	if err != nil {
		return fmt.Errorf("unlink blob %s from %s: %w", d, repo, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("unlink blob %s from %s: %w", d, repo, err)
	}
	if n == 0 {
		return fmt.Errorf("blob %s in %s: %w", d, repo, metadata.ErrNotFound)
	}
	return nil
}

// BlobReferences returns how many manifests, in any repository, list d as
// their config or a layer, plus how many objects, in any bucket, have d as
// their content. A blob that was never recorded returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) BlobReferences(ctx context.Context, d digest.Digest) (int64, error) {
	var refcount int64
	err := s.reader.QueryRowContext(ctx, `SELECT refcount FROM blobs WHERE digest = ?`, string(d)).Scan(&refcount)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("blob %s: %w", d, metadata.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("count references to blob %s: %w", d, err)
	}
	return refcount, nil
}
