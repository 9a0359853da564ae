package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ListRepositoryBlobs returns up to limit blobs linked to repo whose
// digests sort after the cursor, in byte order. A limit of zero or less
// returns every remaining link. A repository that does not exist returns an
// error wrapping metadata.ErrNotFound.
func (s *Store) ListRepositoryBlobs(ctx context.Context, repo string, after digest.Digest, limit int) ([]metadata.Blob, error) {
	repoID, err := repositoryID(ctx, s.pool, repo)
	if err != nil {
		return nil, err
	}
	const query = `SELECT b.digest, b.size FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
		WHERE l.repository_id = $1 AND l.digest > $2
		ORDER BY l.digest LIMIT $3`
	rows, err := s.pool.Query(ctx, query, repoID, string(after), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list blobs of %s: %w", repo, err)
	}
	blobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Blob, error) {
		var b metadata.Blob
		var d string
		err := row.Scan(&d, &b.Size)
		b.Digest = digest.Digest(d)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs of %s: %w", repo, err)
	}
	return blobs, nil
}

// ListManifests returns up to limit manifests of repo whose digests sort
// after the cursor, in byte order, with their Blobs and Children in byte
// order. A limit of zero or less returns every remaining manifest. A
// repository that does not exist returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) ListManifests(ctx context.Context, repo string, after digest.Digest, limit int) ([]metadata.Manifest, error) {
	repoID, err := repositoryID(ctx, s.pool, repo)
	if err != nil {
		return nil, err
	}
	manifests, err := s.manifestPage(ctx, repoID, repo, after, limit)
	if err != nil || len(manifests) == 0 {
		return manifests, err
	}

	byDigest := make(map[digest.Digest]*metadata.Manifest, len(manifests))
	for i := range manifests {
		byDigest[manifests[i].Digest] = &manifests[i]
	}
	last := manifests[len(manifests)-1].Digest
	const blobRefs = `SELECT manifest_digest, blob_digest FROM manifest_blobs
		WHERE repository_id = $1 AND manifest_digest > $2 AND manifest_digest <= $3
		ORDER BY manifest_digest, blob_digest`
	err = s.eachReference(ctx, blobRefs, repoID, after, last, func(m, ref digest.Digest) {
		if found := byDigest[m]; found != nil {
			found.Blobs = append(found.Blobs, ref)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list blob references of manifests in %s: %w", repo, err)
	}
	const childRefs = `SELECT index_digest, child_digest FROM manifest_children
		WHERE repository_id = $1 AND index_digest > $2 AND index_digest <= $3
		ORDER BY index_digest, child_digest`
	err = s.eachReference(ctx, childRefs, repoID, after, last, func(m, ref digest.Digest) {
		if found := byDigest[m]; found != nil {
			found.Children = append(found.Children, ref)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list child references of manifests in %s: %w", repo, err)
	}
	return manifests, nil
}

// manifestPage reads one page of manifest rows of repository repoID.
func (s *Store) manifestPage(ctx context.Context, repoID int64, repo string, after digest.Digest, limit int) ([]metadata.Manifest, error) {
	const query = `SELECT ` + manifestColumns + ` FROM manifests m
		WHERE m.repository_id = $1 AND m.digest > $2
		ORDER BY m.digest LIMIT $3`
	rows, err := s.pool.Query(ctx, query, repoID, string(after), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list manifests of %s: %w", repo, err)
	}
	manifests, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Manifest, error) {
		m, err := scanManifest(row, repo)
		if err != nil {
			return metadata.Manifest{}, err
		}
		return *m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list manifests of %s: %w", repo, err)
	}
	return manifests, nil
}

// eachReference runs a query over (manifest digest, referenced digest) pairs
// of the digest range (after, last] of one repository and calls fn for each.
func (s *Store) eachReference(ctx context.Context, query string, repoID int64, after, last digest.Digest,
	fn func(manifest, ref digest.Digest)) error {
	rows, err := s.pool.Query(ctx, query, repoID, string(after), string(last))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var m, ref string
		if err := rows.Scan(&m, &ref); err != nil {
			return err
		}
		fn(digest.Digest(m), digest.Digest(ref))
	}
	return rows.Err()
}

// ListTagTargets returns up to limit tags of repo that sort after the
// cursor in byte order, with the digests they point at. A limit of zero or
// less returns every remaining tag. A repository that does not exist
// returns an error wrapping metadata.ErrNotFound.
func (s *Store) ListTagTargets(ctx context.Context, repo, after string, limit int) ([]metadata.Tag, error) {
	repoID, err := repositoryID(ctx, s.pool, repo)
	if err != nil {
		return nil, err
	}
	lower, ok := ceilText(after + "\x00")
	if !ok {
		return nil, nil
	}
	const query = `SELECT name, digest FROM tags
		WHERE repository_id = $1 AND name >= $2
		ORDER BY name LIMIT $3`
	rows, err := s.pool.Query(ctx, query, repoID, lower, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	tags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Tag, error) {
		var t metadata.Tag
		var d string
		err := row.Scan(&t.Name, &d)
		t.Digest = digest.Digest(d)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	return tags, nil
}
