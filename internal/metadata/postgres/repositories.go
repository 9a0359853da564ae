package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// ensureRepository returns the id of repository name, creating it first when
// it does not exist. Repositories are never deleted, so the id stays valid
// without a lock. It looks the name up before inserting, because an INSERT
// that conflicts still draws a value from the id sequence.
func ensureRepository(ctx context.Context, tx pgx.Tx, name string, now time.Time) (int64, error) {
	id, err := repositoryID(ctx, tx, name)
	if !errors.Is(err, metadata.ErrNotFound) {
		return id, err
	}

	const insert = `INSERT INTO repositories (name, created) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING RETURNING id`
	err = tx.QueryRow(ctx, insert, name, now.UTC().UnixNano()).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("create repository %s: %w", name, err)
	}
	// A concurrent transaction committed the row after the lookup; this
	// statement sees it.
	return repositoryID(ctx, tx, name)
}

// repositoryID returns the id of repository name, or an error wrapping
// metadata.ErrNotFound.
func repositoryID(ctx context.Context, q queryer, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM repositories WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
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
	lower, ok := ceilText(after + "\x00")
	if !ok {
		return nil, nil
	}
	const query = `
		SELECT r.name, r.created,
			(SELECT count(*) FROM manifests m WHERE m.repository_id = r.id),
			(SELECT count(*) FROM tags t WHERE t.repository_id = r.id)
		FROM repositories r
		WHERE r.name >= $1
		ORDER BY r.name
		LIMIT $2`
	rows, err := s.pool.Query(ctx, query, lower, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list repositories after %q: %w", after, err)
	}
	repos, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.RepositoryInfo, error) {
		var info metadata.RepositoryInfo
		var created int64
		err := row.Scan(&info.Name, &created, &info.Manifests, &info.Tags)
		info.Created = fromUnixNano(created)
		return info, err
	})
	if err != nil {
		return nil, fmt.Errorf("list repositories after %q: %w", after, err)
	}
	return repos, nil
}
