package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// queryRower is the query method that *sql.DB and *sql.Tx share.
type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ensureRepository returns the id of repository name, creating it first when
// it does not exist.
func ensureRepository(ctx context.Context, tx *sql.Tx, name string, now time.Time) (int64, error) {
	const insert = `INSERT INTO repositories (name, created) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`
	if _, err := tx.ExecContext(ctx, insert, name, now.UTC().UnixNano()); err != nil {
		return 0, fmt.Errorf("create repository %s: %w", name, err)
	}
	return repositoryID(ctx, tx, name)
}

// repositoryID returns the id of repository name, or an error wrapping
// metadata.ErrNotFound.
func repositoryID(ctx context.Context, q queryRower, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM repositories WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("repository %s: %w", name, metadata.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("look up repository %s: %w", name, err)
	}
	return id, nil
}

// ListRepositories returns up to limit repositories whose names sort after
// the cursor in byte order, with their manifest and tag counts. A limit of
// zero or less returns every remaining repository.
func (s *Store) ListRepositories(ctx context.Context, after string, limit int) ([]metadata.RepositoryInfo, error) {
	const query = `
		SELECT r.name, r.created,
			(SELECT count(*) FROM manifests m WHERE m.repository_id = r.id),
			(SELECT count(*) FROM tags t WHERE t.repository_id = r.id)
		FROM repositories r
		WHERE r.name > ?
		ORDER BY r.name COLLATE BINARY
		LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list repositories after %q: %w", after, err)
	}
	defer rows.Close()

	var repos []metadata.RepositoryInfo
	for rows.Next() {
		var info metadata.RepositoryInfo
		var created int64
		if err := rows.Scan(&info.Name, &created, &info.Manifests, &info.Tags); err != nil {
			return nil, fmt.Errorf("list repositories after %q: %w", after, err)
		}
		info.Created = fromUnixNano(created)
		repos = append(repos, info)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list repositories after %q: %w", after, err)
	}
	return repos, nil
}
