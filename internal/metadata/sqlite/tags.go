package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// upsertTags points each tag of repository repoID at manifest d. A tag that
// pointed elsewhere moves, and the manifest it left stays stored.
func upsertTags(ctx context.Context, tx *sql.Tx, repoID int64, d digest.Digest, tags []string, now time.Time) error {
	const upsert = `INSERT INTO tags (repository_id, name, digest, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated`
	for _, tag := range tags {
		if _, err := tx.ExecContext(ctx, upsert, repoID, tag, string(d), now.UTC().UnixNano()); err != nil {
			return fmt.Errorf("set tag %s: %w", tag, err)
		}
	}
	return nil
}

// DeleteTag removes tag from repo, or returns an error wrapping
// metadata.ErrNotFound. The manifest it pointed at stays stored.
func (s *Store) DeleteTag(ctx context.Context, repo, tag string) error {
	const del = `DELETE FROM tags
		WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?`
	res, err := s.writer.ExecContext(ctx, del, repo, tag)
	if err != nil {
		return fmt.Errorf("delete tag %s in %s: %w", tag, repo, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete tag %s in %s: %w", tag, repo, err)
	}
	if n == 0 {
		return fmt.Errorf("tag %s in %s: %w", tag, repo, metadata.ErrNotFound)
	}
	return nil
}

// ListTags returns up to limit tags of repo that sort after the cursor in
// byte order. A limit of zero or less returns every remaining tag. A
// repository that does not exist returns an error wrapping
// metadata.ErrNotFound, and one without tags returns no tags and no error.
func (s *Store) ListTags(ctx context.Context, repo, after string, limit int) ([]string, error) {
	repoID, err := repositoryID(ctx, s.reader, repo)
	if err != nil {
		return nil, err
	}

	const query = `SELECT name FROM tags
		WHERE repository_id = ? AND name > ?
		ORDER BY name COLLATE BINARY
		LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, repoID, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	defer rows.Close()

	var tags []string
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return nil, fmt.Errorf("list tags of %s: %w", repo, err)
		}
		tags = append(tags, tag)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}
