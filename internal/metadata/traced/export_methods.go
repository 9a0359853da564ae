package traced

import (
	"context"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ListRepositoryBlobs calls the wrapped store's ListRepositoryBlobs inside a span.
func (s *Store) ListRepositoryBlobs(ctx context.Context, repo string, after digest.Digest, limit int) ([]metadata.Blob, error) {
	ctx, c := s.start(ctx, "metadata.ListRepositoryBlobs")
	result, err := s.next.ListRepositoryBlobs(ctx, repo, after, limit)
	c.end(err)
	return result, err
}

// ListManifests calls the wrapped store's ListManifests inside a span.
func (s *Store) ListManifests(ctx context.Context, repo string, after digest.Digest, limit int) ([]metadata.Manifest, error) {
	ctx, c := s.start(ctx, "metadata.ListManifests")
	result, err := s.next.ListManifests(ctx, repo, after, limit)
	c.end(err)
	return result, err
}

// ListTagTargets calls the wrapped store's ListTagTargets inside a span.
func (s *Store) ListTagTargets(ctx context.Context, repo, after string, limit int) ([]metadata.Tag, error) {
	ctx, c := s.start(ctx, "metadata.ListTagTargets")
	result, err := s.next.ListTagTargets(ctx, repo, after, limit)
	c.end(err)
	return result, err
}
