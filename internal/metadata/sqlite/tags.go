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

// upsertTags points each tag of repository repoID at manifest d and
// returns the tag changes: a tag that did not exist is created, one that
// pointed elsewhere moves (the manifest it left stays stored), and one
// that already pointed at d is no change.
func upsertTags(ctx context.Context, tx *sql.Tx, repoID int64, repo string, d digest.Digest, tags []string, now time.Time) ([]metadata.Change, error) {
	const current = `SELECT digest FROM tags WHERE repository_id = ? AND name = ?`
	const upsert = `INSERT INTO tags (repository_id, name, digest, updated) VALUES (?, ?, ?, ?)
		ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated = excluded.updated`
	var changes []metadata.Change
	for _, tag := range tags {
		var previous string
		err := tx.QueryRowContext(ctx, current, repoID, tag).Scan(&previous)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("look up tag %s: %w", tag, err)
		}
		if _, err := tx.ExecContext(ctx, upsert, repoID, tag, string(d), now.UTC().UnixNano()); err != nil {
			return nil, fmt.Errorf("set tag %s: %w", tag, err)
		}

		change := metadata.Change{Kind: metadata.TagCreated, Repository: repo, Tag: tag, Digest: d}
		switch previous {
		case "":
		case string(d):
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
		WHERE repository_id = (SELECT id FROM repositories WHERE name = ?) AND name = ?
		RETURNING digest`
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var d string
		err := tx.QueryRowContext(ctx, del, repo, tag).Scan(&d)
		if errors.Is(err, sql.ErrNoRows) {
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
