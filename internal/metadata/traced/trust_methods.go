package traced

import (
	"context"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// PutTrustStore calls the wrapped store's PutTrustStore inside a span.
func (s *Store) PutTrustStore(ctx context.Context, ts metadata.TrustStore) error {
	ctx, c := s.start(ctx, "metadata.PutTrustStore")
	err := s.next.PutTrustStore(ctx, ts)
	c.end(err)
	return err
}

// GetTrustStore calls the wrapped store's GetTrustStore inside a span.
func (s *Store) GetTrustStore(ctx context.Context, name string) (metadata.TrustStore, error) {
	ctx, c := s.start(ctx, "metadata.GetTrustStore")
	result, err := s.next.GetTrustStore(ctx, name)
	c.end(err)
	return result, err
}

// ListTrustStores calls the wrapped store's ListTrustStores inside a span.
func (s *Store) ListTrustStores(ctx context.Context) ([]metadata.TrustStore, error) {
	ctx, c := s.start(ctx, "metadata.ListTrustStores")
	result, err := s.next.ListTrustStores(ctx)
	c.end(err)
	return result, err
}

// DeleteTrustStore calls the wrapped store's DeleteTrustStore inside a span.
func (s *Store) DeleteTrustStore(ctx context.Context, name string) error {
	ctx, c := s.start(ctx, "metadata.DeleteTrustStore")
	err := s.next.DeleteTrustStore(ctx, name)
	c.end(err)
	return err
}

// FindManifests calls the wrapped store's FindManifests inside a span.
func (s *Store) FindManifests(ctx context.Context, d digest.Digest) ([]metadata.ManifestLocation, error) {
	ctx, c := s.start(ctx, "metadata.FindManifests")
	result, err := s.next.FindManifests(ctx, d)
	c.end(err)
	return result, err
}

// FindReferrers calls the wrapped store's FindReferrers inside a span.
func (s *Store) FindReferrers(ctx context.Context, subject digest.Digest) ([]metadata.RepositoryReferrer, error) {
	ctx, c := s.start(ctx, "metadata.FindReferrers")
	result, err := s.next.FindReferrers(ctx, subject)
	c.end(err)
	return result, err
}

// FindTags calls the wrapped store's FindTags inside a span.
func (s *Store) FindTags(ctx context.Context, names []string) ([]metadata.TagLocation, error) {
	ctx, c := s.start(ctx, "metadata.FindTags")
	result, err := s.next.FindTags(ctx, names)
	c.end(err)
	return result, err
}

// FindObjects calls the wrapped store's FindObjects inside a span.
func (s *Store) FindObjects(ctx context.Context, d digest.Digest, limit int) ([]metadata.ObjectLocation, error) {
	ctx, c := s.start(ctx, "metadata.FindObjects")
	result, err := s.next.FindObjects(ctx, d, limit)
	c.end(err)
	return result, err
}
