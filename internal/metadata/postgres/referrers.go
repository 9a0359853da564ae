package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ListReferrers returns the manifests in repo whose subject is the given
// digest, ordered by digest. A non-empty artifactType keeps only the
// referrers of that artifact type. The subject itself need not be stored,
// and a repository that does not exist has no referrers, so neither case is
// an error.
func (s *Store) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]metadata.Referrer, error) {
	const query = `
		SELECT m.media_type, m.digest, m.size, m.artifact_type, m.annotations
		FROM repositories r
		JOIN manifests m ON m.repository_id = r.id
		WHERE r.name = $1 AND m.subject = $2 AND ($3 = '' OR m.artifact_type = $3)
		ORDER BY m.digest`
	rows, err := s.pool.Query(ctx, query, repo, string(subject), artifactType)
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s in %s: %w", subject, repo, err)
	}
	referrers, err := pgx.CollectRows(rows, scanReferrer)
	if err != nil {
		return nil, fmt.Errorf("list referrers of %s in %s: %w", subject, repo, err)
	}
	return referrers, nil
}

// scanReferrer reads one row of the ListReferrers query.
func scanReferrer(row pgx.CollectableRow) (metadata.Referrer, error) {
	var (
		r           metadata.Referrer
		d           string
		annotations *string
	)
	if err := row.Scan(&r.MediaType, &d, &r.Size, &r.ArtifactType, &annotations); err != nil {
		return metadata.Referrer{}, err
	}
	r.Digest = digest.Digest(d)
	if annotations != nil {
		if err := json.Unmarshal([]byte(*annotations), &r.Annotations); err != nil {
			return metadata.Referrer{}, fmt.Errorf("decode annotations of manifest %s: %w", d, err)
		}
	}
	return r, nil
}
