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

// upsertTags points each tag of repository repoID at manifest d and
// returns the tag changes: a tag that did not exist is created, one that
// pointed elsewhere moves (the manifest it left stays stored), and one
// that already pointed at d is no change. Tags are written in byte order,
// so two pushes that set the same tags lock their rows in the same order.
// The tag row is locked before it is read, so the previous digest is the
// one this change replaces; only when a concurrent push creates the tag
// between the read and the upsert is a move reported without it.
func upsertTags(ctx context.Context, tx pgx.Tx, repoID int64, repo string, d digest.Digest, tags []string, now time.Time) ([]metadata.Change, error) {
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	const current = `SELECT digest FROM tags WHERE repository_id = $1 AND name = $2 FOR UPDATE`
	const upsert = `INSERT INTO tags (repository_id, name, digest, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated
		RETURNING xmax = 0`
	var changes []metadata.Change
	for _, tag := range slices.Compact(sorted) {
		var previous string
		err := tx.QueryRow(ctx, current, repoID, tag).Scan(&previous)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("look up tag %s: %w", tag, err)
		}
		var inserted bool
		if err := tx.QueryRow(ctx, upsert, repoID, tag, string(d), now.UTC().UnixNano()).Scan(&inserted); err != nil {
			return nil, fmt.Errorf("set tag %s: %w", tag, err)
		}

		change := metadata.Change{Kind: metadata.TagCreated, Repository: repo, Tag: tag, Digest: d}
		switch {
		case inserted:
		case previous == string(d):
			continue
		default:
			change.Kind = metadata.TagMoved
			change.PreviousDigest = digest.Digest(previous)
		}
		changes = append(changes, change)
	}
	return changes, nil
}

// DeleteTag removes tag from repo, or returns an error wrapping
// metadata.ErrNotFound. The manifest it pointed at stays stored.
func (s *Store) DeleteTag(ctx context.Context, repo, tag string) error {
	const del = `DELETE FROM tags
		WHERE repository_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2
		RETURNING digest`
	err := s.write(ctx, func(tx pgx.Tx) error {
		var d string
		err := tx.QueryRow(ctx, del, repo, tag).Scan(&d)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("tag %s in %s: %w", tag, repo, metadata.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, metadata.Change{Kind: metadata.TagDeleted, Repository: repo, Tag: tag, Digest: digest.Digest(d)})
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete tag %s in %s: %w", tag, repo, err)
	}
	return nil
}

// ListTags returns up to limit tags of repo that sort after the cursor in
// byte order. A limit of zero or less returns every remaining tag. A
// repository that does not exist returns an error wrapping
// metadata.ErrNotFound, and one without tags returns no tags and no error.
func (s *Store) ListTags(ctx context.Context, repo, after string, limit int) ([]string, error) {
	repoID, err := repositoryID(ctx, s.pool, repo)
	if err != nil {
		return nil, err
	}
	lower, ok := ceilText(after + "\x00")
	if !ok {
		return nil, nil
	}

	const query = `SELECT name FROM tags
		WHERE repository_id = $1 AND name >= $2
		ORDER BY name
		LIMIT $3`
	rows, err := s.pool.Query(ctx, query, repoID, lower, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}
