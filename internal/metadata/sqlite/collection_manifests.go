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

// Queries of the manifest rules: a listing after a cursor, ordered by
// repository name and digest, and a check of one manifest.
const (
	listManifestsPrefix = `SELECT r.name, m.digest, m.subject, m.size, m.created
		FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE (r.name, m.digest) > (?, ?) AND m.created < ? AND `
	listManifestsSuffix = `
		ORDER BY r.name, m.digest LIMIT ?`
	checkManifestPrefix = `SELECT EXISTS (SELECT 1 FROM manifests m
		WHERE m.repository_id = ? AND m.digest = ? AND m.created < ? AND `
)

// manifestRule is a selection of manifests for garbage collection.
type manifestRule struct {
	list  string // lists the manifests created before a time, after a cursor
	check string // checks one manifest, created before a time, against the rule
	kind  string // describes a manifest the rule selects, in errors
}

var (
	untaggedRule = manifestRule{
		list:  listManifestsPrefix + untaggedCondition + listManifestsSuffix,
		check: checkManifestPrefix + untaggedCondition + `)`,
		kind:  "untagged",
	}
	orphanReferrerRule = manifestRule{
		list:  listManifestsPrefix + orphanReferrerCondition + listManifestsSuffix,
		check: checkManifestPrefix + orphanReferrerCondition + `)`,
		kind:  "an orphan referrer",
	}
)

// ListUntaggedManifests returns up to limit manifests after the cursor that
// were created before the given time, that no tag or index references, and
// whose subject, if any, is not live. A limit of zero or less returns every
// remaining manifest.
func (s *Store) ListUntaggedManifests(ctx context.Context, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	refs, err := s.listManifests(ctx, untaggedRule, before, after, limit)
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
	refs, err := s.listManifests(ctx, orphanReferrerRule, before, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list orphan referrers: %w", err)
	}
	return refs, nil
}

// listManifests returns the manifests that rule selects after the cursor,
// ordered by repository name and digest, and created before the given time.
func (s *Store) listManifests(ctx context.Context, rule manifestRule, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	rows, err := s.reader.QueryContext(ctx, rule.list, after.Repository, string(after.Digest), before.UTC().UnixNano(), sqlLimit(limit))
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
	return s.deleteManifest(ctx, repo, d, untaggedRule, before)
}

// DeleteOrphanReferrer deletes manifest d of repo when it still meets the
// conditions of ListOrphanReferrers, checked in the same transaction.
func (s *Store) DeleteOrphanReferrer(ctx context.Context, repo string, d digest.Digest, before time.Time) error {
	return s.deleteManifest(ctx, repo, d, orphanReferrerRule, before)
}

// deleteManifest deletes manifest d of repo as DeleteManifest does when it
// was created before the given time and rule selects it. It returns an
// error wrapping metadata.ErrConflict when the manifest is stored but the
// rule no longer selects it, and one wrapping metadata.ErrNotFound when it
// is not stored.
func (s *Store) deleteManifest(ctx context.Context, repo string, d digest.Digest, rule manifestRule, before time.Time) error {
	notFound := fmt.Errorf("manifest %s in %s: %w", d, repo, metadata.ErrNotFound)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		repoID, err := repositoryID(ctx, tx, repo)
		if errors.Is(err, metadata.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}

		var qualifies bool
		if err := tx.QueryRowContext(ctx, rule.check, repoID, string(d), before.UTC().UnixNano()).Scan(&qualifies); err != nil {
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
			return fmt.Errorf("manifest %s in %s is no longer %s: %w", d, repo, rule.kind, metadata.ErrConflict)
		}
		return s.deleteManifestRows(ctx, tx, repoID, repo, d)
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrConflict) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete manifest %s in %s: %w", d, repo, err)
	}
	return nil
}
