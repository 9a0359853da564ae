package gc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
)

// digestKeys is a family of storage keys named by blob digest.
type digestKeys struct {
	prefix string                     // first key segment
	keyOf  func(digest.Digest) string // key of a digest
}

var (
	// contentKeys are the keys of committed blob content.
	contentKeys = digestKeys{prefix: "blobs", keyOf: blob.Key}
	// checksumKeys are the keys of the chunk checksums of blobs, which
	// belong to the blob of the same digest.
	checksumKeys = digestKeys{prefix: "checksums", keyOf: blob.ChecksumsKey}
)

// collectBlobs unlinks or deletes every blob that has been unreferenced
// since before the cutoff.
func (r *run) collectBlobs(ctx context.Context) error {
	var cursor digest.Digest
	for {
		page, err := r.meta.ListUnreferencedBlobs(ctx, r.cutoff, cursor, pageSize)
		if err != nil {
			return err
		}
		for _, b := range page {
			if b.Linked {
				r.unlinkBlob(ctx, b.Digest)
			} else {
				r.deleteBlob(ctx, b.Digest)
			}
		}
		if len(page) < pageSize {
			return nil
		}
		cursor = page[len(page)-1].Digest
	}
}

// unlinkBlob removes the repository links of an unreferenced blob.
func (r *run) unlinkBlob(ctx context.Context, d digest.Digest) {
	if !r.report.DryRun {
		links, err := r.meta.UnlinkUnreferencedBlob(ctx, d, r.cutoff)
		if r.changed(err) {
			return
		}
		if err != nil {
			r.fail("unlink unreferenced blob failed", err, "digest", d)
			return
		}
		r.logger.Info("unreferenced blob unlinked", "digest", d, "links", links)
	}
	r.report.UnlinkedBlobs = append(r.report.UnlinkedBlobs, d)
}

// deleteBlob deletes the row of an unreferenced, unlinked blob and then its
// content, at the row's location. Quarantined content stays.
func (r *run) deleteBlob(ctx context.Context, d digest.Digest) {
	if r.report.DryRun {
		row, err := r.meta.GetBlob(ctx, d)
		if r.changed(err) {
			return
		}
		if err != nil {
			r.fail("look up blob row failed", err, "digest", d)
			return
		}
		key, ok := contentKey(d, row.Location)
		info, removable, err := r.removable(ctx, key)
		removable = removable && ok
		if err != nil {
			r.fail("stat blob content failed", err, "digest", d)
			return
		}
		r.report.DeletedBlobs = append(r.report.DeletedBlobs, Item{Name: string(d), Bytes: bytesIf(removable, info)})
		return
	}

	row, err := r.meta.DeleteUnreferencedBlob(ctx, d, r.cutoff)
	if r.changed(err) {
		return
	} else if err != nil {
		r.fail("delete unreferenced blob failed", err, "digest", d)
		return
	}
	key, ok := contentKey(d, row.Location)
	if !ok {
		r.report.DeletedBlobs = append(r.report.DeletedBlobs, Item{Name: string(d)})
		r.logger.Info("unreferenced blob deleted; its quarantined content stays", "digest", d, "key", key)
		return
	}
	// The row is gone. Content that cannot be deleted now is an orphan key,
	// which a later run deletes.
	freed, err := r.deleteKey(ctx, key)
	if err != nil {
		r.fail("delete blob content failed", err, "digest", d, "key", key)
		return
	}
	r.report.DeletedBlobs = append(r.report.DeletedBlobs, Item{Name: string(d), Bytes: freed})
	r.logger.Info("unreferenced blob deleted", "digest", d, "bytes", freed)

	// Checksums left behind here are an orphan key for a later run.
	sums := blob.ChecksumsKey(d)
	if _, err := r.deleteKey(ctx, sums); err != nil {
		r.fail("delete blob chunk checksums failed", err, "digest", d, "key", sums)
	}
}

// contentKey returns the storage key of the content of blob d at location,
// and false when that content is quarantined, which collection never
// deletes.
func contentKey(d digest.Digest, location string) (string, bool) {
	if location == "" {
		return blob.Key(d), true
	}
	return location, !(metadata.Blob{Location: location}).Quarantined()
}

// removable stats key and reports whether it was last written before the
// cutoff. A missing key is not removable and not an error.
func (r *run) removable(ctx context.Context, key string) (storage.Info, bool, error) {
	info, err := r.blobs.Driver().Stat(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Info{}, false, nil
	}
	if err != nil {
		return storage.Info{}, false, err
	}
	return info, info.ModTime.Before(r.cutoff), nil
}

// deleteKey deletes key when it was last written before the cutoff and
// returns the bytes it freed. A key written since then stays: a client has
// stored the same content again after its metadata row was checked, and the
// row it creates next needs that content.
//
// NOTE: a client that writes the key between the Stat and the Delete here
// loses that content. The window is one storage round trip.
func (r *run) deleteKey(ctx context.Context, key string) (int64, error) {
	info, removable, err := r.removable(ctx, key)
	if err != nil {
		return 0, err
	}
	if !removable {
		if info.Key != "" {
			r.logger.Warn("storage key kept because it was written recently", "key", key, "modified", info.ModTime)
		}
		return 0, nil
	}
	err = r.blobs.Driver().Delete(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

// bytesIf returns the size in info when removable is true, else 0.
func bytesIf(removable bool, info storage.Info) int64 {
	if removable {
		return info.Size
	}
	return 0
}

// sweepBlobKeys deletes the content under blobs/ that has no blob row and
// was written before the cutoff.
func (r *run) sweepBlobKeys(ctx context.Context) error {
	return r.sweepDigestKeys(ctx, contentKeys)
}

// sweepChecksumKeys deletes the chunk checksums under checksums/ that have
// no blob row and were written before the cutoff.
func (r *run) sweepChecksumKeys(ctx context.Context) error {
	return r.sweepDigestKeys(ctx, checksumKeys)
}

// sweepDigestKeys deletes the keys of family k that have no blob row and
// were written before the cutoff.
func (r *run) sweepDigestKeys(ctx context.Context, k digestKeys) error {
	var orphans []storage.Info
	var batch []storage.Info
	flush := func() error {
		found, err := r.meta.FindBlobs(ctx, k.digests(batch))
		if err != nil {
			return err
		}
		for _, info := range batch {
			d, _ := k.digest(info.Key)
			if _, ok := slices.BinarySearch(found, d); !ok {
				orphans = append(orphans, info)
			}
		}
		batch = batch[:0]
		return nil
	}

	err := r.blobs.Driver().Walk(ctx, k.prefix, func(info storage.Info) error {
		if _, ok := k.digest(info.Key); !ok {
			r.logger.Warn("storage key does not name a blob; left alone", "prefix", k.prefix, "key", info.Key)
			return nil
		}
		if !info.ModTime.Before(r.cutoff) {
			return nil
		}
		batch = append(batch, info)
		if len(batch) < pageSize {
			return nil
		}
		return flush()
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("walk %s: %w", k.prefix, err)
	}

	for _, info := range orphans {
		r.deleteOrphanBlobKey(ctx, k, info)
	}
	return nil
}

// deleteOrphanBlobKey deletes blob content that had no row when the walk
// found it, after checking again that there is none.
func (r *run) deleteOrphanBlobKey(ctx context.Context, k digestKeys, info storage.Info) {
	if r.report.DryRun {
		r.report.OrphanKeys = append(r.report.OrphanKeys, Item{Name: info.Key, Bytes: info.Size})
		return
	}
	d, _ := k.digest(info.Key)
	found, err := r.meta.FindBlobs(ctx, []digest.Digest{d})
	if err != nil {
		r.fail("look up blob row failed", err, "digest", d)
		return
	}
	if len(found) > 0 {
		r.report.Skipped++
		return
	}
	r.deleteOrphanKey(ctx, info.Key)
}

// deleteOrphanKey deletes a key that no metadata records and reports it.
func (r *run) deleteOrphanKey(ctx context.Context, key string) {
	freed, err := r.deleteKey(ctx, key)
	if err != nil {
		r.fail("delete orphan storage key failed", err, "key", key)
		return
	}
	r.report.OrphanKeys = append(r.report.OrphanKeys, Item{Name: key, Bytes: freed})
	r.logger.Info("orphan storage key deleted", "key", key, "bytes", freed)
}

// digest returns the digest whose key in family k is key, and false for
// a key that is not the key of a valid digest.
func (k digestKeys) digest(key string) (digest.Digest, bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] != k.prefix {
		return "", false
	}
	d, err := digest.Parse(parts[1] + ":" + parts[3])
	if err != nil || k.keyOf(d) != key {
		return "", false
	}
	return d, true
}

// digests returns the digests of the keys of family k among infos.
func (k digestKeys) digests(infos []storage.Info) []digest.Digest {
	ds := make([]digest.Digest, 0, len(infos))
	for _, info := range infos {
		if d, ok := k.digest(info.Key); ok {
			ds = append(ds, d)
		}
	}
	return ds
}
