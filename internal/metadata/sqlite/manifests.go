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

// PutManifest stores m and points each tag at it, in one transaction, and
// creates the repository when it is new. When the manifest is already stored
// only the tags change. A new manifest must find each of m.Blobs linked to
// the repository and each of m.Children stored in it, else PutManifest
// returns a *metadata.MissingReferenceError and writes nothing. Each distinct
// digest in m.Blobs gains one reference. A zero m.Created is stored as the
// current time.
func (s *Store) PutManifest(ctx context.Context, m *metadata.Manifest, tags ...string) error {
	now := time.Now()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		repoID, err := ensureRepository(ctx, tx, m.Repository, now)
		if err != nil {
			return err
		}

		exists, err := manifestExists(ctx, tx, repoID, m.Digest)
		if err != nil {
			return err
		}
		var changes []metadata.Change
		if !exists {
			if err := insertManifest(ctx, tx, repoID, m, now); err != nil {
				return err
			}
			changes = append(changes, metadata.Change{Kind: metadata.ManifestPushed, Repository: m.Repository, Manifest: m})
		}

		tagChanges, err := upsertTags(ctx, tx, repoID, m.Repository, m.Digest, tags, now)
		if err != nil {
			return err
		}
		return s.record(ctx, tx, append(changes, tagChanges...)...)
	})

	var missing *metadata.MissingReferenceError
	if errors.As(err, &missing) {
		return missing
	}
	if err != nil {
		return fmt.Errorf("put manifest %s in %s: %w", m.Digest, m.Repository, err)
	}
	return nil
}

// manifestExists reports whether repository repoID stores manifest d.
func manifestExists(ctx context.Context, q queryRower, repoID int64, d digest.Digest) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM manifests WHERE repository_id = ? AND digest = ?`, repoID, string(d)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up manifest %s: %w", d, err)
	}
	return true, nil
}

// insertManifest checks the references of a new manifest, then inserts its
// row, its reference rows and the reference counts of its blobs.
func insertManifest(ctx context.Context, tx *sql.Tx, repoID int64, m *metadata.Manifest, now time.Time) error {
	blobs := distinct(m.Blobs)
	children := distinct(m.Children)

	// Check every reference before writing, so a rejected manifest leaves no
	// rows behind even before the rollback.
	for _, d := range blobs {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM repository_blobs WHERE repository_id = ? AND digest = ?`, repoID, string(d)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return &metadata.MissingReferenceError{Digest: d}
		}
		if err != nil {
			return fmt.Errorf("look up blob %s: %w", d, err)
		}
	}
	for _, d := range children {
		exists, err := manifestExists(ctx, tx, repoID, d)
		if err != nil {
			return err
		}
		if !exists {
			return &metadata.MissingReferenceError{Digest: d, Manifest: true}
		}
	}

	var annotations sql.NullString
	if len(m.Annotations) > 0 {
		encoded, err := json.Marshal(m.Annotations)
		if err != nil {
			return fmt.Errorf("encode annotations: %w", err)
		}
		annotations = sql.NullString{String: string(encoded), Valid: true}
	}

	const insert = `INSERT INTO manifests
		(repository_id, digest, media_type, content, artifact_type, subject, annotations, size, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	_, err := tx.ExecContext(ctx, insert, repoID, string(m.Digest), m.MediaType, m.Content, m.ArtifactType,
		nullString(string(m.Subject)), annotations, len(m.Content), unixNano(m.Created, now))
	if err != nil {
		return fmt.Errorf("insert manifest row: %w", err)
	}

	for _, d := range blobs {
		const link = `INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) VALUES (?, ?, ?)`
		if _, err := tx.ExecContext(ctx, link, repoID, string(m.Digest), string(d)); err != nil {
			return fmt.Errorf("record reference to blob %s: %w", d, err)
		}
		const count = `UPDATE blobs SET refcount = refcount + 1 WHERE digest = ?`
		if _, err := tx.ExecContext(ctx, count, string(d)); err != nil {
			return fmt.Errorf("count reference to blob %s: %w", d, err)
		}
	}
	for _, d := range children {
		const link = `INSERT INTO manifest_children (repository_id, index_digest, child_digest) VALUES (?, ?, ?)`
		if _, err := tx.ExecContext(ctx, link, repoID, string(m.Digest), string(d)); err != nil {
			return fmt.Errorf("record reference to manifest %s: %w", d, err)
		}
	}
	return nil
}

// distinct returns digests without repeats, in first-seen order.
func distinct(digests []digest.Digest) []digest.Digest {
	seen := make(map[digest.Digest]bool, len(digests))
	out := make([]digest.Digest, 0, len(digests))
	for _, d := range digests {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// manifestColumns are the columns scanManifest reads, in its order.
const manifestColumns = `m.digest, m.media_type, m.content, m.artifact_type, m.subject, m.annotations, m.created`

// getManifestQuery selects a manifest by repository name and digest.
const getManifestQuery = `SELECT ` + manifestColumns + `
	FROM repositories r
	JOIN manifests m ON m.repository_id = r.id
	WHERE r.name = ? AND m.digest = ?`

// getTaggedManifestQuery selects a manifest by repository name and tag.
const getTaggedManifestQuery = `SELECT ` + manifestColumns + `
	FROM repositories r
	JOIN tags t ON t.repository_id = r.id
	JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
	WHERE r.name = ? AND t.name = ?`

// scanManifest reads one row of manifestColumns. Blobs and Children are
// left nil, because the store keeps them only as reference rows.
func scanManifest(row rowScanner, repo string) (*metadata.Manifest, error) {
	m := &metadata.Manifest{Repository: repo}
	var (
		d           string
		subject     sql.NullString
		annotations sql.NullString
		created     int64
	)
	if err := row.Scan(&d, &m.MediaType, &m.Content, &m.ArtifactType, &subject, &annotations, &created); err != nil {
		return nil, err
	}
	m.Digest = digest.Digest(d)
	m.Subject = digest.Digest(subject.String)
	m.Created = fromUnixNano(created)
	if annotations.Valid {
		if err := json.Unmarshal([]byte(annotations.String), &m.Annotations); err != nil {
			return nil, fmt.Errorf("decode annotations of manifest %s: %w", d, err)
		}
	}
	return m, nil
}

// GetManifest returns the manifest with digest d in repo, or an error
// wrapping metadata.ErrNotFound. The returned Blobs and Children are nil.
func (s *Store) GetManifest(ctx context.Context, repo string, d digest.Digest) (*metadata.Manifest, error) {
	m, err := scanManifest(s.read.getManifest.QueryRowContext(ctx, repo, string(d)), repo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("manifest %s in %s: %w", d, repo, metadata.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest %s in %s: %w", d, repo, err)
	}
	return m, nil
}

// GetTaggedManifest returns the manifest that tag points at in repo, or an
// error wrapping metadata.ErrNotFound. The returned Blobs and Children are nil.
func (s *Store) GetTaggedManifest(ctx context.Context, repo, tag string) (*metadata.Manifest, error) {
	m, err := scanManifest(s.read.getTaggedManifest.QueryRowContext(ctx, repo, tag), repo)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("tag %s in %s: %w", tag, repo, metadata.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest tagged %s in %s: %w", tag, repo, err)
	}
	return m, nil
}

// DeleteManifest removes the manifest with digest d from repo together with
// every tag that points at it, and takes back the references it held on
// blobs. It returns an error wrapping metadata.ErrNotFound when the
// repository does not store the manifest. Deleting a manifest that an index
// lists is allowed.
func (s *Store) DeleteManifest(ctx context.Context, repo string, d digest.Digest) error {
	notFound := fmt.Errorf("manifest %s in %s: %w", d, repo, metadata.ErrNotFound)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		repoID, err := repositoryID(ctx, tx, repo)
		if errors.Is(err, metadata.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		exists, err := manifestExists(ctx, tx, repoID, d)
		if err != nil {
			return err
		}
		if !exists {
			return notFound
		}
		return s.deleteManifestRows(ctx, tx, repoID, repo, d)
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("delete manifest %s in %s: %w", d, repo, err)
	}
	return nil
}

// deleteManifestRows deletes a stored manifest's tags, reference rows and
// row, in the order the foreign keys require, and decrements the reference
// count of each blob it listed.
// It first records the deletion of the manifest and its tags in the outbox.
func (s *Store) deleteManifestRows(ctx context.Context, tx *sql.Tx, repoID int64, repo string, d digest.Digest) error {
	changes, err := manifestDeletion(ctx, tx, repoID, repo, d)
	if err != nil {
		return err
	}
	if err := s.record(ctx, tx, changes...); err != nil {
		return err
	}

	steps := []struct {
		name string
		sql  string
	}{
		{"delete tags", `DELETE FROM tags WHERE repository_id = ? AND digest = ?`},
		{"release blob references", `UPDATE blobs SET refcount = refcount - 1 WHERE digest IN
			(SELECT blob_digest FROM manifest_blobs WHERE repository_id = ? AND manifest_digest = ?)`},
		{"delete blob references", `DELETE FROM manifest_blobs WHERE repository_id = ? AND manifest_digest = ?`},
		{"delete manifest references", `DELETE FROM manifest_children WHERE repository_id = ? AND index_digest = ?`},
		{"delete manifest row", `DELETE FROM manifests WHERE repository_id = ? AND digest = ?`},
	}
	for _, step := range steps {
		if _, err := tx.ExecContext(ctx, step.sql, repoID, string(d)); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return nil
}
