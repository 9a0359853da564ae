package traced

import (
	"context"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ListRepositories calls the wrapped store's ListRepositories inside a span.
func (s *Store) ListRepositories(ctx context.Context, after string, limit int) ([]metadata.RepositoryInfo, error) {
	ctx, c := s.start(ctx, "metadata.ListRepositories")
	result, err := s.next.ListRepositories(ctx, after, limit)
	c.end(err)
	return result, err
}

// LinkBlob calls the wrapped store's LinkBlob inside a span.
func (s *Store) LinkBlob(ctx context.Context, repo string, b metadata.Blob) error {
	ctx, c := s.start(ctx, "metadata.LinkBlob")
	err := s.next.LinkBlob(ctx, repo, b)
	c.end(err)
	return err
}

// LookupBlob calls the wrapped store's LookupBlob inside a span.
func (s *Store) LookupBlob(ctx context.Context, repo string, d digest.Digest) (metadata.Blob, error) {
	ctx, c := s.start(ctx, "metadata.LookupBlob")
	result, err := s.next.LookupBlob(ctx, repo, d)
	c.end(err)
	return result, err
}

// GetBlob calls the wrapped store's GetBlob inside a span.
func (s *Store) GetBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error) {
	ctx, c := s.start(ctx, "metadata.GetBlob")
	result, err := s.next.GetBlob(ctx, d)
	c.end(err)
	return result, err
}

// StatBlob calls the wrapped store's StatBlob inside a span.
func (s *Store) StatBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error) {
	ctx, c := s.start(ctx, "metadata.StatBlob")
	result, err := s.next.StatBlob(ctx, d)
	c.end(err)
	return result, err
}

// UnlinkBlob calls the wrapped store's UnlinkBlob inside a span.
func (s *Store) UnlinkBlob(ctx context.Context, repo string, d digest.Digest) error {
	ctx, c := s.start(ctx, "metadata.UnlinkBlob")
	err := s.next.UnlinkBlob(ctx, repo, d)
	c.end(err)
	return err
}

// BlobReferences calls the wrapped store's BlobReferences inside a span.
func (s *Store) BlobReferences(ctx context.Context, d digest.Digest) (int64, error) {
	ctx, c := s.start(ctx, "metadata.BlobReferences")
	result, err := s.next.BlobReferences(ctx, d)
	c.end(err)
	return result, err
}

// PutManifest calls the wrapped store's PutManifest inside a span.
func (s *Store) PutManifest(ctx context.Context, m *metadata.Manifest, tags ...string) error {
	ctx, c := s.start(ctx, "metadata.PutManifest")
	err := s.next.PutManifest(ctx, m, tags...)
	c.end(err)
	return err
}

// GetManifest calls the wrapped store's GetManifest inside a span.
func (s *Store) GetManifest(ctx context.Context, repo string, d digest.Digest) (*metadata.Manifest, error) {
	ctx, c := s.start(ctx, "metadata.GetManifest")
	result, err := s.next.GetManifest(ctx, repo, d)
	c.end(err)
	return result, err
}

// GetTaggedManifest calls the wrapped store's GetTaggedManifest inside a span.
func (s *Store) GetTaggedManifest(ctx context.Context, repo, tag string) (*metadata.Manifest, error) {
	ctx, c := s.start(ctx, "metadata.GetTaggedManifest")
	result, err := s.next.GetTaggedManifest(ctx, repo, tag)
	c.end(err)
	return result, err
}

// DeleteManifest calls the wrapped store's DeleteManifest inside a span.
func (s *Store) DeleteManifest(ctx context.Context, repo string, d digest.Digest) error {
	ctx, c := s.start(ctx, "metadata.DeleteManifest")
	err := s.next.DeleteManifest(ctx, repo, d)
	c.end(err)
	return err
}

// DeleteTag calls the wrapped store's DeleteTag inside a span.
func (s *Store) DeleteTag(ctx context.Context, repo, tag string) error {
	ctx, c := s.start(ctx, "metadata.DeleteTag")
	err := s.next.DeleteTag(ctx, repo, tag)
	c.end(err)
	return err
}

// ListTags calls the wrapped store's ListTags inside a span.
func (s *Store) ListTags(ctx context.Context, repo, after string, limit int) ([]string, error) {
	ctx, c := s.start(ctx, "metadata.ListTags")
	result, err := s.next.ListTags(ctx, repo, after, limit)
	c.end(err)
	return result, err
}

// ListReferrers calls the wrapped store's ListReferrers inside a span.
func (s *Store) ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]metadata.Referrer, error) {
	ctx, c := s.start(ctx, "metadata.ListReferrers")
	result, err := s.next.ListReferrers(ctx, repo, subject, artifactType)
	c.end(err)
	return result, err
}

// CreateUpload calls the wrapped store's CreateUpload inside a span.
func (s *Store) CreateUpload(ctx context.Context, u metadata.Upload) error {
	ctx, c := s.start(ctx, "metadata.CreateUpload")
	err := s.next.CreateUpload(ctx, u)
	c.end(err)
	return err
}

// GetUpload calls the wrapped store's GetUpload inside a span.
func (s *Store) GetUpload(ctx context.Context, id string) (metadata.Upload, error) {
	ctx, c := s.start(ctx, "metadata.GetUpload")
	result, err := s.next.GetUpload(ctx, id)
	c.end(err)
	return result, err
}

// AdvanceUpload calls the wrapped store's AdvanceUpload inside a span.
func (s *Store) AdvanceUpload(ctx context.Context, u metadata.Upload, previousOffset int64) error {
	ctx, c := s.start(ctx, "metadata.AdvanceUpload")
	err := s.next.AdvanceUpload(ctx, u, previousOffset)
	c.end(err)
	return err
}

// DeleteUpload calls the wrapped store's DeleteUpload inside a span.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	ctx, c := s.start(ctx, "metadata.DeleteUpload")
	err := s.next.DeleteUpload(ctx, id)
	c.end(err)
	return err
}
