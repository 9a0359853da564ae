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

// maxRowRaces bounds the loops that insert a row unless it exists and lock
// it when it does, which repeat while concurrent transactions keep deleting
// and creating the row between two statements.
const maxRowRaces = 10

// PutManifest stores m and points each tag at it, in one transaction, and
// creates the repository when it is new. When the manifest is already stored
// only the tags change. A new manifest must find each of m.Blobs linked to
// the repository and each of m.Children stored in it, else PutManifest
// returns a *metadata.MissingReferenceError and writes nothing. Each distinct
// digest in m.Blobs gains one reference. A zero m.Created is stored as the
// current time.
func (s *Store) PutManifest(ctx context.Context, m *metadata.Manifest, tags ...string) error {
	now := time.Now()
	err := s.write(ctx, func(tx pgx.Tx) error {
		repoID, err := ensureRepository(ctx, tx, m.Repository, now)
		if err != nil {
			return err
		}
		inserted, err := storeManifest(ctx, tx, repoID, m, now)
		if err != nil {
			return err
		}
		var changes []metadata.Change
		if inserted {
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

// storeManifest makes sure manifest m is stored in repository repoID and
// holds its row with FOR SHARE until the transaction ends, so that the tags
// about to point at it cannot lose it to a concurrent DeleteManifest. When m
// is new, its row, reference rows and reference counts are inserted; when a
// concurrent transaction inserted it first, that one counted the references.
// It reports whether this transaction inserted the manifest.
func storeManifest(ctx context.Context, tx pgx.Tx, repoID int64, m *metadata.Manifest, now time.Time) (bool, error) {
	for range maxRowRaces {
		exists, err := lockManifest(ctx, tx, repoID, m.Digest, "FOR SHARE")
		if err != nil || exists {
			return false, err
		}
		inserted, err := insertManifest(ctx, tx, repoID, m, now)
		if err != nil || inserted {
			return inserted, err
		}
	}
	return false, fmt.Errorf("manifest %s was created and deleted concurrently %d times", m.Digest, maxRowRaces)
}

// lockManifest locks manifest d of repository repoID with the given locking
// clause and reports whether it is stored.
func lockManifest(ctx context.Context, tx pgx.Tx, repoID int64, d digest.Digest, locking string) (bool, error) {
	var one int
	query := `SELECT 1 FROM manifests WHERE repository_id = $1 AND digest = $2 ` + locking
	err := tx.QueryRow(ctx, query, repoID, string(d)).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up manifest %s: %w", d, err)
	}
	return true, nil
}

// insertManifest checks the references of a new manifest, then inserts its
// row, its reference rows and the reference counts of its blobs. It reports
// false, having written nothing, when a concurrent transaction stored the
// same manifest first.
func insertManifest(ctx context.Context, tx pgx.Tx, repoID int64, m *metadata.Manifest, now time.Time) (bool, error) {
	blobs := distinct(m.Blobs)
	children := distinct(m.Children)
	if err := checkReferences(ctx, tx, repoID, blobs, children); err != nil {
		return false, err
	}

	var annotations *string
	if len(m.Annotations) > 0 {
		encoded, err := json.Marshal(m.Annotations)
		if err != nil {
			return false, fmt.Errorf("encode annotations: %w", err)
		}
		annotations = new(string(encoded))
	}

	const insert = `INSERT INTO manifests
		(repository_id, digest, media_type, content, artifact_type, subject, annotations, size, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (repository_id, digest) DO NOTHING`
	tag, err := tx.Exec(ctx, insert, repoID, string(m.Digest), m.MediaType, m.Content, m.ArtifactType,
		nullString(string(m.Subject)), annotations, len(m.Content), unixNano(m.Created, now))
	if err != nil {
		return false, fmt.Errorf("insert manifest row: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}

	for _, d := range blobs {
		const link = `INSERT INTO manifest_blobs (repository_id, manifest_digest, blob_digest) VALUES ($1, $2, $3)`
		if _, err := tx.Exec(ctx, link, repoID, string(m.Digest), string(d)); err != nil {
			return false, fmt.Errorf("record reference to blob %s: %w", d, err)
		}
	}
	if err := addReferences(ctx, tx, blobs, 1); err != nil {
		return false, err
	}
	for _, d := range children {
		const link = `INSERT INTO manifest_children (repository_id, index_digest, child_digest) VALUES ($1, $2, $3)`
		if _, err := tx.Exec(ctx, link, repoID, string(m.Digest), string(d)); err != nil {
			return false, fmt.Errorf("record reference to manifest %s: %w", d, err)
		}
	}
	return true, nil
}

// checkReferences returns a *metadata.MissingReferenceError for the first
// blob that is not linked to repository repoID or the first child manifest
// that it does not store. The rows it finds stay locked with FOR KEY SHARE
// until the transaction ends, so that they cannot be deleted before the new
// manifest that relies on them commits.
func checkReferences(ctx context.Context, tx pgx.Tx, repoID int64, blobs, children []digest.Digest) error {
	for _, d := range blobs {
		var one int
		const query = `SELECT 1 FROM repository_blobs WHERE repository_id = $1 AND digest = $2 FOR KEY SHARE`
		err := tx.QueryRow(ctx, query, repoID, string(d)).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return &metadata.MissingReferenceError{Digest: d}
		}
		if err != nil {
			return fmt.Errorf("look up blob %s: %w", d, err)
		}
	}
	for _, d := range children {
		exists, err := lockManifest(ctx, tx, repoID, d, "FOR KEY SHARE")
		if err != nil {
			return err
		}
		if !exists {
			return &metadata.MissingReferenceError{Digest: d, Manifest: true}
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
	WHERE r.name = $1 AND m.digest = $2`

// getTaggedManifestQuery selects a manifest by repository name and tag.
const getTaggedManifestQuery = `SELECT ` + manifestColumns + `
	FROM repositories r
	JOIN tags t ON t.repository_id = r.id
	JOIN manifests m ON m.repository_id = t.repository_id AND m.digest = t.digest
	WHERE r.name = $1 AND t.name = $2`

// scanManifest reads one row of manifestColumns. Blobs and Children are
// left nil, because the store keeps them only as reference rows.
func scanManifest(row pgx.Row, repo string) (*metadata.Manifest, error) {
	m := &metadata.Manifest{Repository: repo}
	var (
		d           string
		subject     *string
		annotations *string
		created     int64
	)
	if err := row.Scan(&d, &m.MediaType, &m.Content, &m.ArtifactType, &subject, &annotations, &created); err != nil {
		return nil, err
	}
	m.Digest = digest.Digest(d)
	if subject != nil {
		m.Subject = digest.Digest(*subject)
	}
	m.Created = fromUnixNano(created)
	if annotations != nil {
		if err := json.Unmarshal([]byte(*annotations), &m.Annotations); err != nil {
			return nil, fmt.Errorf("decode annotations of manifest %s: %w", d, err)
		}
	}
	return m, nil
}

// GetManifest returns the manifest with digest d in repo, or an error
// wrapping metadata.ErrNotFound. The returned Blobs and Children are nil.
func (s *Store) GetManifest(ctx context.Context, repo string, d digest.Digest) (*metadata.Manifest, error) {
	m, err := scanManifest(s.reads.row(ctx, getManifestQuery, repo, string(d)), repo)
	if errors.Is(err, pgx.ErrNoRows) {
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
	m, err := scanManifest(s.reads.row(ctx, getTaggedManifestQuery, repo, tag), repo)
	if errors.Is(err, pgx.ErrNoRows) {
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
// lists is allowed. Of two concurrent deletions of one manifest, the second
// waits for the first's row lock and then finds the manifest gone.
func (s *Store) DeleteManifest(ctx context.Context, repo string, d digest.Digest) error {
	notFound := fmt.Errorf("manifest %s in %s: %w", d, repo, metadata.ErrNotFound)
	err := s.write(ctx, func(tx pgx.Tx) error {
		repoID, err := repositoryID(ctx, tx, repo)
		if errors.Is(err, metadata.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		exists, err := lockManifest(ctx, tx, repoID, d, "FOR UPDATE")
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

// deleteManifestRows deletes a locked manifest's reference rows, tags and
// row, in the order the foreign keys require, and decrements the reference
// count of each blob it listed. Like PutManifest, it changes blob rows
// before tag rows: with the opposite order, a push that moves a tag away
// from this manifest while it counts a shared layer, and this deletion,
// could each wait for a row the other has locked.
// It first records the deletion of the manifest and its tags in the outbox.
func (s *Store) deleteManifestRows(ctx context.Context, tx pgx.Tx, repoID int64, repo string, d digest.Digest) error {
	changes, err := manifestDeletion(ctx, tx, repoID, repo, d)
	if err != nil {
		return err
	}
	if err := s.record(ctx, tx, changes...); err != nil {
		return err
	}

	const deleteBlobRefs = `DELETE FROM manifest_blobs WHERE repository_id = $1 AND manifest_digest = $2
		RETURNING blob_digest`
	rows, err := tx.Query(ctx, deleteBlobRefs, repoID, string(d))
	if err != nil {
		return fmt.Errorf("delete blob references: %w", err)
	}
	blobs, err := pgx.CollectRows(rows, pgx.RowTo[digest.Digest])
	if err != nil {
		return fmt.Errorf("delete blob references: %w", err)
	}
	if err := addReferences(ctx, tx, blobs, -1); err != nil {
		return err
	}

	steps := []struct {
		name string
		sql  string
	}{
		{"delete tags", `DELETE FROM tags WHERE repository_id = $1 AND digest = $2`},
		{"delete manifest references", `DELETE FROM manifest_children WHERE repository_id = $1 AND index_digest = $2`},
		{"delete manifest row", `DELETE FROM manifests WHERE repository_id = $1 AND digest = $2`},
	}
	for _, step := range steps {
		if _, err := tx.Exec(ctx, step.sql, repoID, string(d)); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return nil
}
