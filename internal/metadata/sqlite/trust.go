package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// PutTrustStore creates or replaces the trust store named ts.Name.
func (s *Store) PutTrustStore(ctx context.Context, ts metadata.TrustStore) error {
	const upsert = `INSERT INTO trust_stores (name, document, created, updated) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (name) DO UPDATE SET document = excluded.document, updated = excluded.updated`
	now := time.Now()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, upsert, ts.Name, string(ts.Document), unixNano(ts.Created, now), unixNano(ts.Updated, now))
		return err
	})
	if err != nil {
		return fmt.Errorf("put trust store %s: %w", ts.Name, err)
	}
	return nil
}

func scanTrustStore(row rowScanner) (metadata.TrustStore, error) {
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
	row := s.reader.QueryRowContext(ctx, `SELECT name, document, created, updated FROM trust_stores WHERE name = ?`, name)
	ts, err := scanTrustStore(row)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.TrustStore{}, fmt.Errorf("trust store %s: %w", name, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.TrustStore{}, fmt.Errorf("get trust store %s: %w", name, err)
	}
	return ts, nil
}

// listTrustStoresQuery lists every trust store. The supply-chain policy
// check runs it on every object read.
const listTrustStoresQuery = `SELECT name, document, created, updated FROM trust_stores ORDER BY name`

// ListTrustStores returns every trust store, ordered by name.
func (s *Store) ListTrustStores(ctx context.Context) ([]metadata.TrustStore, error) {
	rows, err := s.read.listTrustStores.QueryContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("list trust stores: %w", err)
	}
	defer rows.Close()
	var stores []metadata.TrustStore
	for rows.Next() {
		ts, err := scanTrustStore(rows)
		if err != nil {
			return nil, fmt.Errorf("list trust stores: %w", err)
		}
		stores = append(stores, ts)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list trust stores: %w", err)
	}
	return stores, nil
}

// DeleteTrustStore removes the trust store, or returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) DeleteTrustStore(ctx context.Context, name string) error {
	var deleted int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM trust_stores WHERE name = ?`, name)
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete trust store %s: %w", name, err)
	}
	if deleted == 0 {
		return fmt.Errorf("trust store %s: %w", name, metadata.ErrNotFound)
	}
	return nil
}

// FindManifests returns the repositories that store manifest d.
func (s *Store) FindManifests(ctx context.Context, d digest.Digest) ([]metadata.ManifestLocation, error) {
	const query = `SELECT r.name, m.media_type, m.size FROM manifests m
		JOIN repositories r ON r.id = m.repository_id WHERE m.digest = ? ORDER BY r.name`
	rows, err := s.reader.QueryContext(ctx, query, string(d))
	if err != nil {
		return nil, fmt.Errorf("find manifest %s: %w", d, err)
	}
	defer rows.Close()
	var locations []metadata.ManifestLocation
	for rows.Next() {
		var l metadata.ManifestLocation
		if err := rows.Scan(&l.Repository, &l.MediaType, &l.Size); err != nil {
			return nil, fmt.Errorf("find manifest %s: %w", d, err)
		}
		locations = append(locations, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find manifest %s: %w", d, err)
	}
	return locations, nil
}

// FindReferrers returns the referrers of subject in every repository.
func (s *Store) FindReferrers(ctx context.Context, subject digest.Digest) ([]metadata.RepositoryReferrer, error) {
	const query = `SELECT r.name, m.media_type, m.digest, m.size, m.artifact_type, m.annotations
		FROM manifests m JOIN repositories r ON r.id = m.repository_id
		WHERE m.subject = ? ORDER BY r.name, m.digest`
	rows, err := s.reader.QueryContext(ctx, query, string(subject))
	if err != nil {
		return nil, fmt.Errorf("find referrers of %s: %w", subject, err)
	}
	defer rows.Close()
	var referrers []metadata.RepositoryReferrer
	for rows.Next() {
		var (
			r           metadata.RepositoryReferrer
			d           string
			annotations sql.NullString
		)
		if err := rows.Scan(&r.Repository, &r.MediaType, &d, &r.Size, &r.ArtifactType, &annotations); err != nil {
			return nil, fmt.Errorf("find referrers of %s: %w", subject, err)
		}
		r.Digest = digest.Digest(d)
		if annotations.Valid {
			if err := json.Unmarshal([]byte(annotations.String), &r.Annotations); err != nil {
				return nil, fmt.Errorf("decode annotations of manifest %s in %s: %w", d, r.Repository, err)
			}
		}
		referrers = append(referrers, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find referrers of %s: %w", subject, err)
	}
	return referrers, nil
}

// FindTags returns the tags named one of names, in every repository.
func (s *Store) FindTags(ctx context.Context, names []string) ([]metadata.TagLocation, error) {
	const query = `SELECT r.name, t.name, t.digest FROM tags t
		JOIN repositories r ON r.id = t.repository_id
		WHERE t.name IN (SELECT value FROM json_each(?)) ORDER BY r.name, t.name`
	rows, err := s.reader.QueryContext(ctx, query, encodeList(names))
	if err != nil {
		return nil, fmt.Errorf("find tags %q: %w", names, err)
	}
	defer rows.Close()
	var tags []metadata.TagLocation
	for rows.Next() {
		var (
			l metadata.TagLocation
			d string
		)
		if err := rows.Scan(&l.Repository, &l.Tag, &d); err != nil {
			return nil, fmt.Errorf("find tags %q: %w", names, err)
		}
		l.Digest = digest.Digest(d)
		tags = append(tags, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tags %q: %w", names, err)
	}
	return tags, nil
}

// FindObjects returns up to limit objects whose content has digest d.
func (s *Store) FindObjects(ctx context.Context, d digest.Digest, limit int) ([]metadata.ObjectLocation, error) {
	const query = `SELECT bucket, key FROM objects WHERE blob = ? ORDER BY bucket, key LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, string(d), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("find objects with content %s: %w", d, err)
	}
	defer rows.Close()
	var objects []metadata.ObjectLocation
	for rows.Next() {
		var o metadata.ObjectLocation
		if err := rows.Scan(&o.Bucket, &o.Key); err != nil {
			return nil, fmt.Errorf("find objects with content %s: %w", d, err)
		}
		objects = append(objects, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find objects with content %s: %w", d, err)
	}
	return objects, nil
}
