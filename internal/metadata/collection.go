package metadata

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
)

// UnreferencedBlob is a blob row that no manifest and no object references.
type UnreferencedBlob struct {
	Digest digest.Digest
	Size   int64
	// ZeroSince is when the reference count last dropped to zero, or when
	// the row was created, last linked to a repository or last unlinked by
	// UnlinkUnreferencedBlob while the count was zero, whichever is latest.
	ZeroSince time.Time
	// Linked reports whether any repository links the blob.
	Linked bool
	// Location is the blob's Blob.Location.
	Location string
}

// ManifestRef names one stored manifest and the facts garbage collection
// decides on.
type ManifestRef struct {
	Repository string
	Digest     digest.Digest
	// Subject is the digest in the manifest's subject field, or empty.
	Subject digest.Digest
	// Size is the length of the manifest's content in bytes.
	Size    int64
	Created time.Time
}

// ManifestCursor is the position after which a manifest listing continues:
// listings are ordered by repository name, then digest, in byte order. The
// zero value starts at the beginning.
type ManifestCursor struct {
	Repository string
	Digest     digest.Digest
}

// Collection is the part of the metadata store that garbage collection and
// the integrity scrubber use.
//
// Every backend keeps, for each blob row, the time its reference count last
// became zero (UnreferencedBlob.ZeroSince), in the same transaction as the
// change. A count that rises again clears it. LinkBlob and LookupBlob reset
// it to the current time while the count is zero, so a blob that a push in
// progress has just uploaded, mounted or found already stored gets a full
// grace period before the push references it.
//
// Collection reclaims an unreferenced blob in two steps, each after the
// grace period: UnlinkUnreferencedBlob removes its repository links, which
// hides it from pulls and mounts and restarts its grace period, and
// DeleteUnreferencedBlob deletes the row of a blob without links. A client
// that looked the blob up before the first step thus has a whole grace
// period to link it again before its row and content go.
//
// A manifest's subject is live when the same repository stores a manifest
// with that digest, or when any blob row has that digest (a subject may be
// a layer or the content of an S3 object).
type Collection interface {
	// ListBlobs returns up to limit blob rows with digests after the cursor,
	// in byte order, whether referenced or not.
	ListBlobs(ctx context.Context, after digest.Digest, limit int) ([]Blob, error)
	// FindBlobs returns the digests among ds that have a blob row, in byte
	// order.
	FindBlobs(ctx context.Context, ds []digest.Digest) ([]digest.Digest, error)
	// FindBlobLocations returns the storage keys among keys that are the
	// location of a blob row, in byte order.
	FindBlobLocations(ctx context.Context, keys []string) ([]string, error)
	// SetBlobLocation changes the location of blob d from from to to. A
	// row whose location is no longer from returns an error wrapping
	// ErrConflict, and a missing row one wrapping ErrNotFound.
	SetBlobLocation(ctx context.Context, d digest.Digest, from, to string) error
	// ListUnreferencedBlobs returns up to limit blobs with digests after the
	// cursor, in byte order, whose reference count is zero and has been zero
	// since before the given time.
	ListUnreferencedBlobs(ctx context.Context, before time.Time, after digest.Digest, limit int) ([]UnreferencedBlob, error)
	// UnlinkUnreferencedBlob removes every repository link of blob d and
	// restarts its ZeroSince at the current time, in one transaction, after
	// checking again, excluding concurrent writers, that the count is zero
	// and has been zero since before the given time. It returns how many
	// links it removed. A PutManifest that needs one of the links either
	// commits first, and the call returns ErrConflict, or runs after it and
	// returns a *MissingReferenceError. A blob that is referenced or became
	// unreferenced too recently returns an error wrapping ErrConflict, and a
	// missing row one wrapping ErrNotFound.
	UnlinkUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (int64, error)
	// DeleteUnreferencedBlob deletes the row of blob d. First it checks
	// again, in the same transaction and excluding concurrent writers, that
	// no repository links it, that its count has been zero since before the
	// given time, and that no manifest or object row names it.
	// It returns the deleted row. A blob that fails a check returns an error
	// wrapping ErrConflict, and a missing row one wrapping ErrNotFound. The
	// caller deletes the blob's content after the row.
	DeleteUnreferencedBlob(ctx context.Context, d digest.Digest, before time.Time) (UnreferencedBlob, error)

	// ListUploadsBefore returns up to limit upload sessions with IDs after
	// the cursor, in byte order, that were last updated before the given
	// time.
	ListUploadsBefore(ctx context.Context, before time.Time, after string, limit int) ([]Upload, error)
	// FindStagedKeys returns the storage keys among keys that a multipart
	// part row records, in byte order.
	FindStagedKeys(ctx context.Context, keys []string) ([]string, error)

	// ListUntaggedManifests returns up to limit manifests after the cursor
	// that were created before the given time, that no tag points at, that
	// no index in their repository lists, and whose subject, if they have
	// one, is not live.
	ListUntaggedManifests(ctx context.Context, before time.Time, after ManifestCursor, limit int) ([]ManifestRef, error)
	// DeleteUntaggedManifest deletes manifest d of repo as DeleteManifest
	// does, after checking again in the same transaction that it still
	// meets the conditions of ListUntaggedManifests. It returns an error
	// wrapping ErrConflict when it no longer does, and one wrapping
	// ErrNotFound when the manifest is gone.
	DeleteUntaggedManifest(ctx context.Context, repo string, d digest.Digest, before time.Time) error
	// ListOrphanReferrers returns up to limit manifests after the cursor
	// that were created before the given time, that have a subject that is
	// not live, and that no tag points at and no index lists.
	ListOrphanReferrers(ctx context.Context, before time.Time, after ManifestCursor, limit int) ([]ManifestRef, error)
	// DeleteOrphanReferrer deletes manifest d of repo as DeleteManifest
	// does, after checking again in the same transaction that it still
	// meets the conditions of ListOrphanReferrers. It returns an error
	// wrapping ErrConflict when it no longer does, and one wrapping
	// ErrNotFound when the manifest is gone.
	DeleteOrphanReferrer(ctx context.Context, repo string, d digest.Digest, before time.Time) error
}

// GraceRestartInterval is how old the zero_since of an unreferenced blob
// must be before a lookup restarts it. A lookup therefore guarantees the
// blob at least the grace period minus this interval, and a burst of
// lookups of one blob writes at most once per interval.
const GraceRestartInterval = time.Second
