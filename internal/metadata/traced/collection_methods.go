package traced

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ListBlobs calls the wrapped store's ListBlobs inside a span.
func (s *Store) ListBlobs(ctx context.Context, after digest.Digest, limit int) ([]metadata.Blob, error) {
	ctx, c := s.start(ctx, "metadata.ListBlobs")
	result, err := s.next.ListBlobs(ctx, after, limit)
	c.end(err)
	return result, err
}

// FindBlobs calls the wrapped store's FindBlobs inside a span.
func (s *Store) FindBlobs(ctx context.Context, ds []digest.Digest) ([]digest.Digest, error) {
	ctx, c := s.start(ctx, "metadata.FindBlobs")
	result, err := s.next.FindBlobs(ctx, ds)
	c.end(err)
	return result, err
}

// FindBlobLocations calls the wrapped store's FindBlobLocations inside a span.
func (s *Store) FindBlobLocations(ctx context.Context, keys []string) ([]string, error) {
	ctx, c := s.start(ctx, "metadata.FindBlobLocations")
	result, err := s.next.FindBlobLocations(ctx, keys)
	c.end(err)
	return result, err
}

// SetBlobLocation calls the wrapped store's SetBlobLocation inside a span.
func (s *Store) SetBlobLocation(ctx context.Context, d digest.Digest, from, to string) error {
	ctx, c := s.start(ctx, "metadata.SetBlobLocation")
	err := s.next.SetBlobLocation(ctx, d, from, to)
	c.end(err)
	return err
}

// ListUnreferencedBlobs calls the wrapped store's ListUnreferencedBlobs inside a span.
func (s *Store) ListUnreferencedBlobs(ctx context.Context, before time.Time, after digest.Digest, limit int) ([]metadata.UnreferencedBlob, error) {
	ctx, c := s.start(ctx, "metadata.ListUnreferencedBlobs")
	result, err := s.next.ListUnreferencedBlobs(ctx, before, after, limit)
	c.end(err)
	return result, err
}

// UnlinkUnreferencedBlob calls the wrapped store's UnlinkUnreferencedBlob inside a span.
func (s *Store) UnlinkUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (int64, error) {
	ctx, c := s.start(ctx, "metadata.UnlinkUnreferencedBlob")
	result, err := s.next.UnlinkUnreferencedBlob(ctx, d, before)
	c.end(err)
	return result, err
}

// DeleteUnreferencedBlob calls the wrapped store's DeleteUnreferencedBlob inside a span.
func (s *Store) DeleteUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (metadata.UnreferencedBlob, error) {
	ctx, c := s.start(ctx, "metadata.DeleteUnreferencedBlob")
	result, err := s.next.DeleteUnreferencedBlob(ctx, d, before)
	c.end(err)
	return result, err
}

// ListUploadsBefore calls the wrapped store's ListUploadsBefore inside a span.
func (s *Store) ListUploadsBefore(ctx context.Context, before time.Time, after string, limit int) ([]metadata.Upload, error) {
	ctx, c := s.start(ctx, "metadata.ListUploadsBefore")
	result, err := s.next.ListUploadsBefore(ctx, before, after, limit)
	c.end(err)
	return result, err
}

// FindStagedKeys calls the wrapped store's FindStagedKeys inside a span.
func (s *Store) FindStagedKeys(ctx context.Context, keys []string) ([]string, error) {
	ctx, c := s.start(ctx, "metadata.FindStagedKeys")
	result, err := s.next.FindStagedKeys(ctx, keys)
	c.end(err)
	return result, err
}

// ListUntaggedManifests calls the wrapped store's ListUntaggedManifests inside a span.
func (s *Store) ListUntaggedManifests(ctx context.Context, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	ctx, c := s.start(ctx, "metadata.ListUntaggedManifests")
	result, err := s.next.ListUntaggedManifests(ctx, before, after, limit)
	c.end(err)
	return result, err
}

// DeleteUntaggedManifest calls the wrapped store's DeleteUntaggedManifest inside a span.
func (s *Store) DeleteUntaggedManifest(ctx context.Context, repo string, d digest.Digest, before time.Time) error {
	ctx, c := s.start(ctx, "metadata.DeleteUntaggedManifest")
	err := s.next.DeleteUntaggedManifest(ctx, repo, d, before)
	c.end(err)
	return err
}

// ListOrphanReferrers calls the wrapped store's ListOrphanReferrers inside a span.
func (s *Store) ListOrphanReferrers(ctx context.Context, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
	ctx, c := s.start(ctx, "metadata.ListOrphanReferrers")
	result, err := s.next.ListOrphanReferrers(ctx, before, after, limit)
	c.end(err)
	return result, err
}

// DeleteOrphanReferrer calls the wrapped store's DeleteOrphanReferrer inside a span.
func (s *Store) DeleteOrphanReferrer(ctx context.Context, repo string, d digest.Digest, before time.Time) error {
	ctx, c := s.start(ctx, "metadata.DeleteOrphanReferrer")
	err := s.next.DeleteOrphanReferrer(ctx, repo, d, before)
	c.end(err)
	return err
}
