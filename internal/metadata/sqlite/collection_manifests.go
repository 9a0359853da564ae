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

// The conditions below test the manifest row aliased m. Each takes no
// parameters, so they combine freely with the queries' own.
const (
	// unrootedCondition holds when no tag points at m and no index in its
	// repository lists it.
	unrootedCondition = `NOT EXISTS (SELECT 1 FROM tags t WHERE t.repository_id = m.repository_id AND t.digest = m.digest)
		AND NOT EXISTS (SELECT 1 FROM manifest_children c WHERE c.repository_id = m.repository_id AND c.child_digest = m.digest)`
	// liveSubjectCondition holds when m's subject is a manifest of the same
	// repository or has a blob row.
	liveSubjectCondition = `(EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject)
		OR EXISTS (SELECT 1 FROM blobs b WHERE b.digest = m.subject))`
	// untaggedCondition selects the manifests of ListUntaggedManifests.
	untaggedCondition = unrootedCondition + ` AND (m.subject IS NULL OR NOT ` + liveSubjectCondition + `)`
	// orphanReferrerCondition selects the manifests of ListOrphanReferrers.
	orphanReferrerCondition = unrootedCondition + ` AND m.subject IS NOT NULL AND NOT ` + liveSubjectCondition
)

// ListUntaggedManifests returns up to limit manifests after the cursor that
// were created before the given time, that no tag or index references, and
// whose subject, if any, is not live. A limit of zero or less returns every
// remaining manifest.
func (s *Store) ListUntaggedManifests(ctx context.Context, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	refs, err := s.listManifestsWhere(ctx, untaggedCondition, before, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list untagged manifests: %w", err)
	}
	return refs, nil
}

// ListOrphanReferrers returns up to limit manifests after the cursor that
// were created before the given time, whose subject is not live, and that
// no tag or index references. A limit of zero or less returns every
// remaining manifest.
func (s *Store) ListOrphanReferrers(ctx context.Context, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	refs, err := s.listManifestsWhere(ctx, orphanReferrerCondition, before, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list orphan referrers: %w", err)
	}
	return refs, nil
}

// listManifestsWhere returns the manifests after the cursor, ordered by
// repository name and digest, that were created before the given time and
// meet condition.
func (s *Store) listManifestsWhere(ctx context.Context, condition string, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	query := `SELECT r.name, m.digest, m.subject, m.size, m.created
		FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE (r.name, m.digest) > (?, ?) AND m.created < ? AND ` + condition + `
		ORDER BY r.name, m.digest LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, after.Repository, string(after.Digest), before.UTC().UnixNano(), sqlLimit(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var refs []metadata.ManifestRef
	for rows.Next() {
		var (
			ref     metadata.ManifestRef
			d       string
			subject sql.NullString
			created int64
		)
		if err := rows.Scan(&ref.Repository, &d, &subject, &ref.Size, &created); err != nil {
			return nil, err
		}
		ref.Digest = digest.Digest(d)
		ref.Subject = digest.Digest(subject.String)
		ref.Created = fromUnixNano(created)
		refs = append(refs, ref)
	}
	return refs, rows.Err()
}

// DeleteUntaggedManifest deletes manifest d of repo when it still meets the
// conditions of ListUntaggedManifests, checked in the same transaction.
func (s *Store) DeleteUntaggedManifest(ctx context.Context, repo string, d digest.Digest, before time.Time) error {
	return s.deleteManifestWhere(ctx, repo, d, untaggedCondition, before, "untagged")
}

// DeleteOrphanReferrer deletes manifest d of repo when it still meets the
// conditions of ListOrphanReferrers, checked in the same transaction.
func (s *Store) DeleteOrphanReferrer(ctx context.Context, repo string, d digest.Digest, before time.Time) error {
	return s.deleteManifestWhere(ctx, repo, d, orphanReferrerCondition, before, "an orphan referrer")
}

// deleteManifestWhere deletes manifest d of repo as DeleteManifest does when
// it was created before the given time and meets condition. It returns an
// error wrapping metadata.ErrConflict when the manifest is stored but no
// longer qualifies, described by kind, and one wrapping metadata.ErrNotFound
// when it is not stored.
func (s *Store) deleteManifestWhere(ctx context.Context, repo string, d digest.Digest, condition string, before time.Time, kind string) error {
	notFound := fmt.Errorf("manifest %s in %s: %w", d, repo, metadata.ErrNotFound)
	err := s.write(ctx, func(tx *sql.Tx) error {
		repoID, err := repositoryID(ctx, tx, repo)
		if errors.Is(err, metadata.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}

		var qualifies bool
		query := `SELECT EXISTS (SELECT 1 FROM manifests m
			WHERE m.repository_id = ? AND m.digest = ? AND m.created < ? AND ` + condition + `)`
		if err := tx.QueryRowContext(ctx, query, repoID, string(d), before.UTC().UnixNano()).Scan(&qualifies); err != nil {
			return fmt.Errorf("check manifest: %w", err)
		}
		if !qualifies {
			exists, err := manifestExists(ctx, tx, repoID, d)
			if err != nil {
				return err
			}
			if !exists {
				return notFound
			}
			return fmt.Errorf("manifest %s in %s is no longer %s: %w", d, repo, kind, metadata.ErrConflict)
		}
		return deleteManifestRows(ctx, tx, repoID, d)
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrConflict) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete manifest %s in %s: %w", d, repo, err)
	}
	return nil
}
