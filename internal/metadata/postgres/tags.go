package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// upsertTags points each tag of repository repoID at manifest d. A tag that
// pointed elsewhere moves, and the manifest it left stays stored. Tags are
// written in byte order, so two pushes that set the same tags lock their
// rows in the same order.
func upsertTags(ctx context.Context, tx pgx.Tx, repoID int64, d digest.Digest, tags []string, now time.Time) error {
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	const upsert = `INSERT INTO tags (repository_id, name, digest, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated`
	for _, tag := range slices.Compact(sorted) {
		if _, err := tx.Exec(ctx, upsert, repoID, tag, string(d), now.UTC().UnixNano()); err != nil {
			return fmt.Errorf("set tag %s: %w", tag, err)
		}
	}
	return nil
}

// DeleteTag removes tag from repo, or returns an error wrapping
// metadata.ErrNotFound. The manifest it pointed at stays stored.
func (s *Store) DeleteTag(ctx context.Context, repo, tag string) error {
	const del = `DELETE FROM tags
		WHERE repository_id = (SELECT id FROM repositories WHERE name = $1) AND name = $2`
	result, err := s.pool.Exec(ctx, del, repo, tag)
	if err != nil {
		return fmt.Errorf("delete tag %s in %s: %w", tag, repo, err)
	}
	if result.RowsAffected() == 0 {
		return fmt.Errorf("tag %s in %s: %w", tag, repo, metadata.ErrNotFound)
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
