package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
)

// Metadata is what the registry needs from the metadata store.
type Metadata interface {
	metadata.Repositories
	metadata.Blobs
	metadata.Manifests
	RepositoryUsage(ctx context.Context, repo string) (metadata.RepositoryUsage, error)
}

// Registry implements the operations of the OCI distribution API.
// Repository names, tags and digests reach it validated by the adapter
// (ValidateName, ParseReference, ParseDigest).
type Registry struct {
	meta             Metadata
	blobs            *blob.Store
	maxManifestBytes int64
}

// New returns a Registry storing metadata in meta and content in blobs.
// Manifests larger than maxManifestBytes are rejected.
func New(meta Metadata, blobs *blob.Store, maxManifestBytes int64) *Registry {
	return &Registry{meta: meta, blobs: blobs, maxManifestBytes: maxManifestBytes}
}

// StatBlob returns the blob d if repo holds it.
func (r *Registry) StatBlob(ctx context.Context, repo string, d digest.Digest) (metadata.Blob, error) {
	b, err := r.meta.LookupBlob(ctx, repo, d)
	if errors.Is(err, metadata.ErrNotFound) {
		return metadata.Blob{}, fmt.Errorf("blob %s in %s: %w", d, repo, ErrBlobUnknown)
	}
	if err != nil {
		return metadata.Blob{}, fmt.Errorf("look up blob %s in %s: %w", d, repo, err)
	}
	if b.Quarantined() {
		// The scrub found its content corrupt. Report it missing, so that
		// the client uploads it again, which repairs it.
		return metadata.Blob{}, fmt.Errorf("blob %s in %s is quarantined: %w", d, repo, ErrBlobUnknown)
	}
	return b, nil
}

// OpenBlob returns length bytes of blob d from start, verifying the digest
// while streaming (see blob.Store.Open).
func (r *Registry) OpenBlob(ctx context.Context, b metadata.Blob, start, length int64) (io.ReadCloser, error) {
	rc, err := r.blobs.OpenAt(ctx, b.Digest, b.Location, b.Size, start, length)
	if errors.Is(err, blob.ErrInvalidRange) {
		return nil, fmt.Errorf("%w: %w", ErrRangeInvalid, err)
	}
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("blob %s is recorded but its content is missing: %w: %w", b.Digest, ErrBlobUnknown, err)
	}
	return rc, err
}

// BlobRedirectURL returns a presigned URL that reads the whole content of b
// straight from the storage backend, or "" when redirects are off. OCI
// clients check the digest of what they download, which covers the bytes
// that Coffer does not see on this path.
func (r *Registry) BlobRedirectURL(ctx context.Context, b metadata.Blob) (string, error) {
	return r.blobs.RedirectURL(ctx, b.Digest, storage.ResponseHeaders{ContentType: "application/octet-stream"})
}

// DeleteBlob removes blob d from repo. Its content stays stored while
// other repositories or manifests reference it.
func (r *Registry) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	err := r.meta.UnlinkBlob(ctx, repo, d)
	if errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("blob %s in %s: %w", d, repo, ErrBlobUnknown)
	}
	if err != nil {
		return fmt.Errorf("delete blob %s in %s: %w", d, repo, err)
	}
	return nil
}

// MountBlob makes blob d of repository from readable in repo. An empty
// from mounts d from whichever repository stores it. It returns
// ErrBlobUnknown when the source does not hold d.
//
// NOTE: every authenticated principal may read every repository today; when
// per-repository permissions arrive, an anonymous mount must only consider
// repositories the principal may pull from.
func (r *Registry) MountBlob(ctx context.Context, repo, from string, d digest.Digest) (metadata.Blob, error) {
	var b metadata.Blob
	var err error
	if from == "" {
		b, err = r.meta.StatBlob(ctx, d)
		if errors.Is(err, metadata.ErrNotFound) || (err == nil && b.Quarantined()) {
			err = fmt.Errorf("blob %s: %w", d, ErrBlobUnknown)
		}
	} else {
		b, err = r.StatBlob(ctx, from, d)
	}
	if err != nil {
		return metadata.Blob{}, err
	}
	// A mount stores no content, so it names no location.
	if err := r.meta.LinkBlob(ctx, repo, metadata.Blob{Digest: b.Digest, Size: b.Size}); err != nil {
		return metadata.Blob{}, fmt.Errorf("mount blob %s into %s: %w", d, repo, err)
	}
	return b, nil
}

// StartUpload opens an upload session in repo.
func (r *Registry) StartUpload(ctx context.Context, repo string) (metadata.Upload, error) {
	return r.blobs.StartUpload(ctx, repo)
}

// Upload returns upload session id of repo.
func (r *Registry) Upload(ctx context.Context, repo, id string) (metadata.Upload, error) {
	u, err := r.blobs.GetUpload(ctx, id)
	if errors.Is(err, blob.ErrUploadUnknown) || err == nil && u.Repository != repo {
		return metadata.Upload{}, fmt.Errorf("upload %s in %s: %w", id, repo, ErrUploadUnknown)
	}
	return u, err
}

// UploadStatus returns upload session id of repo once no request is
// writing to it, so that its offset is where the client must resume.
func (r *Registry) UploadStatus(ctx context.Context, repo, id string) (metadata.Upload, error) {
	if _, err := r.Upload(ctx, repo, id); err != nil {
		return metadata.Upload{}, err
	}
	u, err := r.blobs.SettledUpload(ctx, id)
	return u, uploadError(err)
}

// AppendUpload adds a chunk at offset to upload id (see blob.Store.Append
// for declared).
func (r *Registry) AppendUpload(ctx context.Context, repo, id string, offset int64, body io.Reader, declared int64) (metadata.Upload, error) {
	if _, err := r.Upload(ctx, repo, id); err != nil {
		return metadata.Upload{}, err
	}
	u, err := r.blobs.Append(ctx, id, offset, body, declared)
	return u, uploadError(err)
}

// CompleteUpload appends an optional final chunk, checks the digest and
// links the blob to repo.
func (r *Registry) CompleteUpload(ctx context.Context, repo, id string, d digest.Digest, body io.Reader, declared int64) (metadata.Blob, error) {
	if _, err := r.Upload(ctx, repo, id); err != nil {
		return metadata.Blob{}, err
	}
	size, location, err := r.blobs.Commit(ctx, id, d, body, declared)
	if err != nil {
		return metadata.Blob{}, uploadError(err)
	}
	return r.linkBlob(ctx, repo, metadata.Blob{Digest: d, Size: size, Location: location})
}

// PutBlob stores a blob sent whole in one request and links it to repo.
func (r *Registry) PutBlob(ctx context.Context, repo string, d digest.Digest, body io.Reader, declared int64) (metadata.Blob, error) {
	size, location, err := r.blobs.Put(ctx, d, body, declared)
	if err != nil {
		return metadata.Blob{}, uploadError(err)
	}
	return r.linkBlob(ctx, repo, metadata.Blob{Digest: d, Size: size, Location: location})
}

// linkBlob links a committed blob to repo. It finishes even when the
// client has gone, so that a retry finds the blob it already sent.
func (r *Registry) linkBlob(ctx context.Context, repo string, b metadata.Blob) (metadata.Blob, error) {
	if err := r.meta.LinkBlob(context.WithoutCancel(ctx), repo, b); err != nil {
		return metadata.Blob{}, fmt.Errorf("link blob %s to %s: %w", b.Digest, repo, err)
	}
	r.blobs.Settle(ctx, b.Digest, b.Location)
	return b, nil
}

// CancelUpload removes upload id of repo and its bytes.
func (r *Registry) CancelUpload(ctx context.Context, repo, id string) error {
	if _, err := r.Upload(ctx, repo, id); err != nil {
		return err
	}
	return uploadError(r.blobs.Cancel(ctx, id))
}

func uploadError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, blob.ErrUploadUnknown):
		return fmt.Errorf("%w: %w", ErrUploadUnknown, err)
	case errors.Is(err, blob.ErrDigestMismatch):
		return fmt.Errorf("%w: %w", ErrDigestInvalid, err)
	case errors.Is(err, blob.ErrSizeMismatch):
		return fmt.Errorf("%w: %w", ErrSizeInvalid, err)
	case errors.Is(err, blob.ErrInvalidRange):
		return fmt.Errorf("%w: %w", ErrRangeInvalid, err)
	}
	return err
}

// PutManifest validates and stores a manifest under ref (a tag or the
// manifest's digest) and the extra tags, and returns the stored record.
func (r *Registry) PutManifest(ctx context.Context, repo string, ref Reference, contentType string, body io.Reader, tags []string) (*metadata.Manifest, error) {
	content, err := io.ReadAll(io.LimitReader(body, r.maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if int64(len(content)) > r.maxManifestBytes {
		return nil, fmt.Errorf("%w: the limit is %d bytes", ErrManifestTooLarge, r.maxManifestBytes)
	}

	algorithm := digest.Canonical
	if ref.Digest != "" {
		algorithm = ref.Digest.Algorithm()
	}
	d := algorithm.FromBytes(content)
	if ref.Digest != "" && ref.Digest != d {
		return nil, fmt.Errorf("%w: manifest content hashes to %s, not %s", ErrDigestInvalid, d, ref.Digest)
	}
	if ref.Tag != "" {
		tags = append([]string{ref.Tag}, tags...)
	}

	m, blobs, err := parseManifest(repo, d, contentType, content)
	if err != nil {
		return nil, err
	}
	if err := r.checkBlobSizes(ctx, repo, blobs); err != nil {
		return nil, err
	}
	m.Created = time.Now().UTC()

	var missing *metadata.MissingReferenceError
	err = r.meta.PutManifest(ctx, m, tags...)
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("%w: %w", ErrManifestBlobUnknown, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store manifest %s in %s: %w", d, repo, err)
	}
	return m, nil
}

// checkBlobSizes rejects a manifest whose config or layer descriptor
// declares another size than the blob that repo holds under that digest,
// because every client that pulls the manifest would reject the blob. A
// blob that repo does not hold is left to the metadata store, which
// rejects the manifest in the transaction that stores it.
func (r *Registry) checkBlobSizes(ctx context.Context, repo string, blobs []declaredBlob) error {
	for _, declared := range blobs {
		b, err := r.meta.LookupBlob(ctx, repo, declared.digest)
		if errors.Is(err, metadata.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("look up blob %s in %s: %w", declared.digest, repo, err)
		}
		if b.Size != declared.size {
			return fmt.Errorf("%w: %s: size %d does not match blob %s, which has %d bytes",
				ErrManifestInvalid, declared.field, declared.size, declared.digest, b.Size)
		}
	}
	return nil
}

// GetManifest returns the manifest ref names in repo.
func (r *Registry) GetManifest(ctx context.Context, repo string, ref Reference) (*metadata.Manifest, error) {
	var m *metadata.Manifest
	var err error
	if ref.Digest != "" {
		m, err = r.meta.GetManifest(ctx, repo, ref.Digest)
	} else {
		m, err = r.meta.GetTaggedManifest(ctx, repo, ref.Tag)
	}
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, fmt.Errorf("manifest %s in %s: %w", ref, repo, ErrManifestUnknown)
	}
	if err != nil {
		return nil, fmt.Errorf("get manifest %s in %s: %w", ref, repo, err)
	}
	return m, nil
}

// DeleteManifest deletes a tag, or a manifest and every tag pointing at it.
func (r *Registry) DeleteManifest(ctx context.Context, repo string, ref Reference) error {
	var err error
	if ref.Digest != "" {
		err = r.meta.DeleteManifest(ctx, repo, ref.Digest)
	} else {
		err = r.meta.DeleteTag(ctx, repo, ref.Tag)
	}
	if errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("manifest %s in %s: %w", ref, repo, ErrManifestUnknown)
	}
	if err != nil {
		return fmt.Errorf("delete manifest %s in %s: %w", ref, repo, err)
	}
	return nil
}

// Tags returns up to limit tags of repo after the cursor, and whether more follow.
func (r *Registry) Tags(ctx context.Context, repo, after string, limit int) ([]string, bool, error) {
	tags, err := r.meta.ListTags(ctx, repo, after, limit+1)
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, false, fmt.Errorf("repository %s: %w", repo, ErrNameUnknown)
	}
	if err != nil {
		return nil, false, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	more := len(tags) > limit
	if more {
		tags = tags[:limit]
	}
	return append([]string{}, tags...), more, nil
}

// Catalog returns up to limit repository names after the cursor, and whether more follow.
func (r *Registry) Catalog(ctx context.Context, after string, limit int) ([]string, bool, error) {
	repos, err := r.meta.ListRepositories(ctx, after, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list repositories: %w", err)
	}
	more := len(repos) > limit
	if more {
		repos = repos[:limit]
	}
	names := make([]string, len(repos))
	for i, repo := range repos {
		names[i] = repo.Name
	}
	return names, more, nil
}

// Repositories returns repository summaries for the management API.
func (r *Registry) Repositories(ctx context.Context, after string, limit int) ([]metadata.RepositoryInfo, error) {
	return r.meta.ListRepositories(ctx, after, limit)
}

// Usage returns the usage counters of repo, or ErrNameUnknown when the
// repository does not exist.
func (r *Registry) Usage(ctx context.Context, repo string) (metadata.RepositoryUsage, error) {
	if err := ValidateName(repo); err != nil {
		return metadata.RepositoryUsage{}, err
	}
	u, err := r.meta.RepositoryUsage(ctx, repo)
	if errors.Is(err, metadata.ErrNotFound) {
		return metadata.RepositoryUsage{}, fmt.Errorf("repository %s: %w", repo, ErrNameUnknown)
	}
	if err != nil {
		return metadata.RepositoryUsage{}, fmt.Errorf("read usage of repository %s: %w", repo, err)
	}
	return u, nil
}

// Referrers returns the manifests of repo whose subject is d, optionally
// only those of one artifact type. A subject that is not stored has an
// empty list.
func (r *Registry) Referrers(ctx context.Context, repo string, d digest.Digest, artifactType string) ([]metadata.Referrer, error) {
	refs, err := r.meta.ListReferrers(ctx, repo, d, artifactType)
	if err != nil && !errors.Is(err, metadata.ErrNotFound) {
		return nil, fmt.Errorf("list referrers of %s in %s: %w", d, repo, err)
	}
	return refs, nil
}

// ManifestBytes returns the stored bytes of m as a reader.
func ManifestBytes(m *metadata.Manifest) io.ReadSeeker { return bytes.NewReader(m.Content) }
