package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// PutTrustStore creates or replaces the trust store named ts.Name.
func (s *Store) PutTrustStore(ctx context.Context, ts metadata.TrustStore) error {
	const upsert = `INSERT INTO trust_stores (name, document, created, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated = excluded.updated`
	now := time.Now()
	_, err := s.pool.Exec(ctx, upsert, ts.Name, string(ts.Document), unixNano(ts.Created, now), unixNano(ts.Updated, now))
	if err != nil {
		return fmt.Errorf("put trust store %s: %w", ts.Name, err)
	}
	return nil
}

const trustStoreColumns = `name, document, created, updated`

func scanTrustStore(row pgx.Row) (metadata.TrustStore, error) {
	var (
		ts               metadata.TrustStore
		document         string
		created, updated int64
	)
	if err := row.Scan(&ts.Name, &document, &created, &updated); err != nil {
		return metadata.TrustStore{}, err
	}
	ts.Document = []byte(document)
	ts.Created, ts.Updated = fromUnixNano(created), fromUnixNano(updated)
	return ts, nil
}

// GetTrustStore returns the trust store, or an error wrapping
// metadata.ErrNotFound.
func (s *Store) GetTrustStore(ctx context.Context, name string) (metadata.TrustStore, error) {
	ts, err := scanTrustStore(s.pool.QueryRow(ctx, `SELECT `+trustStoreColumns+` FROM trust_stores WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return metadata.TrustStore{}, fmt.Errorf("trust store %s: %w", name, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.TrustStore{}, fmt.Errorf("get trust store %s: %w", name, err)
	}
	return ts, nil
}

// ListTrustStores returns every trust store, ordered by name.
func (s *Store) ListTrustStores(ctx context.Context) ([]metadata.TrustStore, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+trustStoreColumns+` FROM trust_stores ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list trust stores: %w", err)
	}
	stores, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.TrustStore, error) { return scanTrustStore(row) })
	if err != nil {
		return nil, fmt.Errorf("list trust stores: %w", err)
	}
	return stores, nil
}

// DeleteTrustStore removes the trust store, or returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) DeleteTrustStore(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM trust_stores WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete trust store %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("trust store %s: %w", name, metadata.ErrNotFound)
	}
	return nil
}

// FindManifests returns the repositories that store manifest d.
func (s *Store) FindManifests(ctx context.Context, d digest.Digest) ([]metadata.ManifestLocation, error) {
	const query = `SELECT r.name, m.media_type, m.size FROM manifests m
		JOIN repositories r ON r.id = m.repository_id WHERE m.digest = $1 ORDER BY r.name`
	rows, err := s.pool.Query(ctx, query, string(d))
	if err != nil {
		return nil, fmt.Errorf("find manifest %s: %w", d, err)
	}
	locations, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.ManifestLocation, error) {
		var l metadata.ManifestLocation
		err := row.Scan(&l.Repository, &l.MediaType, &l.Size)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("find manifest %s: %w", d, err)
	}
	return locations, nil
}

// FindReferrers returns the referrers of subject in every repository.
func (s *Store) FindReferrers(ctx context.Context, subject digest.Digest) ([]metadata.RepositoryReferrer, error) {
	const query = `SELECT r.name, m.media_type, m.digest, m.size, m.artifact_type, m.annotations
		FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE m.subject = $1 ORDER BY r.name, m.digest`
	rows, err := s.pool.Query(ctx, query, string(subject))
	if err != nil {
		return nil, fmt.Errorf("find referrers of %s: %w", subject, err)
	}
	referrers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.RepositoryReferrer, error) {
		var (
			r           metadata.RepositoryReferrer
			d           string
			annotations *string
		)
		if err := row.Scan(&r.Repository, &r.MediaType, &d, &r.Size, &r.ArtifactType, &annotations); err != nil {
			return r, err
		}
		r.Digest = digest.Digest(d)
		if annotations != nil {
			if err := json.Unmarshal([]byte(*annotations), &r.Annotations); err != nil {
				return r, fmt.Errorf("decode annotations of manifest %s in %s: %w", d, r.Repository, err)
			}
		}
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("find referrers of %s: %w", subject, err)
	}
	return referrers, nil
}

// FindTags returns the tags named one of names, in every repository.
func (s *Store) FindTags(ctx context.Context, names []string) ([]metadata.TagLocation, error) {
	const query = `SELECT r.name, t.name, t.digest FROM tags t
		JOIN repositories r ON r.id = t.repository_id
		WHERE t.name = ANY($1) ORDER BY r.name, t.name`
	rows, err := s.pool.Query(ctx, query, names)
	if err != nil {
		return nil, fmt.Errorf("find tags %q: %w", names, err)
	}
	tags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.TagLocation, error) {
		var (
			l metadata.TagLocation
			d string
		)
		err := row.Scan(&l.Repository, &l.Tag, &d)
		l.Digest = digest.Digest(d)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("find tags %q: %w", names, err)
	}
	return tags, nil
}

// FindObjects returns up to limit objects whose content has digest d.
func (s *Store) FindObjects(ctx context.Context, d digest.Digest, limit int) ([]metadata.ObjectLocation, error) {
	const query = `SELECT bucket, key FROM objects WHERE blob = $1 ORDER BY bucket, key LIMIT $2`
	rows, err := s.pool.Query(ctx, query, string(d), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("find objects with content %s: %w", d, err)
	}
	objects, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.ObjectLocation, error) {
		var o metadata.ObjectLocation
		err := row.Scan(&o.Bucket, &o.Key)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("find objects with content %s: %w", d, err)
	}
	return objects, nil
}
