package gc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
)

// The blob store keeps the bytes of upload session <id>, and of one-request
// writes in progress, under uploads/<id>, and the staged parts of S3
// multipart uploads under uploads/part-<id>.
const (
	uploadsPrefix    = "uploads"
	stagedNamePrefix = "part-"
)

// expireSessions cancels the upload sessions that have not been updated
// for longer than the upload expiry, and deletes their bytes.
func (r *run) expireSessions(ctx context.Context) error {
	before := r.now.Add(-r.opts.UploadExpiry)
	after := ""
	for {
		page, err := r.meta.ListUploadsBefore(ctx, before, after, pageSize)
		if err != nil {
			return err
		}
		for _, u := range page {
			r.expireSession(ctx, u)
		}
		if len(page) < pageSize {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// expireSession cancels one stale upload session.
func (r *run) expireSession(ctx context.Context, u metadata.Upload) {
	key := uploadsPrefix + "/" + u.ID
	var size int64
	info, err := r.blobs.Driver().Stat(ctx, key)
	switch {
	case err == nil:
		size = info.Size
	case !errors.Is(err, storage.ErrNotFound):
		r.fail("stat upload bytes failed", err, "upload", u.ID)
		return
	}

	if !r.report.DryRun {
		err := r.blobs.Cancel(ctx, u.ID)
		if errors.Is(err, blob.ErrUploadUnknown) {
			r.report.Skipped++
			return
		}
		if err != nil {
			r.fail("cancel expired upload failed", err, "upload", u.ID)
			return
		}
		r.logger.Info("expired upload session cancelled", "upload", u.ID, "repository", u.Repository,
			"updated", u.Updated, "bytes", size)
	}
	r.report.ExpiredUploads = append(r.report.ExpiredUploads, Item{Name: u.ID, Bytes: size})
}

// sweepUploadKeys deletes the keys under uploads/ that no upload session,
// no multipart part and no blob location records and that were written
// before the cutoff.
func (r *run) sweepUploadKeys(ctx context.Context) error {
	var orphans []storage.Info
	var staged, sessions []storage.Info
	flush := func() error {
		unstaged, err := unrecorded(ctx, staged, r.meta.FindStagedKeys)
		if err != nil {
			return err
		}
		orphans = append(orphans, unstaged...)
		staged = staged[:0]

		unplaced, err := unrecorded(ctx, sessions, r.meta.FindBlobLocations)
		if err != nil {
			return err
		}
		sessions = sessions[:0]
		for _, info := range unplaced {
			name, _ := uploadKeyName(info.Key)
			recorded, err := r.sessionExists(ctx, name)
			if err != nil {
				return err
			}
			if !recorded {
				orphans = append(orphans, info)
			}
		}
		return nil
	}

	err := r.blobs.Driver().Walk(ctx, uploadsPrefix, func(info storage.Info) error {
		name, ok := uploadKeyName(info.Key)
		if !ok {
			r.logger.Warn("storage key under uploads/ does not name an upload; left alone", "key", info.Key)
			return nil
		}
		if !info.ModTime.Before(r.cutoff) {
			return nil
		}
		if strings.HasPrefix(name, stagedNamePrefix) {
			staged = append(staged, info)
		} else {
			sessions = append(sessions, info)
		}
		if len(staged)+len(sessions) < pageSize {
			return nil
		}
		return flush()
	})
	if err == nil && len(staged)+len(sessions) > 0 {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("walk %s: %w", uploadsPrefix, err)
	}

	// Report them in walk order, which the batches above mixed.
	slices.SortFunc(orphans, func(a, b storage.Info) int { return strings.Compare(a.Key, b.Key) })
	for _, info := range orphans {
		r.deleteOrphanUploadKey(ctx, info)
	}
	return nil
}

// deleteOrphanUploadKey deletes upload bytes that nothing recorded when the
// walk found them, after checking again that nothing does.
func (r *run) deleteOrphanUploadKey(ctx context.Context, info storage.Info) {
	if r.report.DryRun {
		r.report.OrphanKeys = append(r.report.OrphanKeys, Item{Name: info.Key, Bytes: info.Size})
		return
	}
	name, _ := uploadKeyName(info.Key)
	var recorded bool
	var err error
	if strings.HasPrefix(name, stagedNamePrefix) {
		var found []string
		found, err = r.meta.FindStagedKeys(ctx, []string{info.Key})
		recorded = len(found) > 0
	} else {
		var found []string
		found, err = r.meta.FindBlobLocations(ctx, []string{info.Key})
		recorded = len(found) > 0
		if err == nil && !recorded {
			recorded, err = r.sessionExists(ctx, name)
		}
	}
	if err != nil {
		r.fail("look up upload record failed", err, "key", info.Key)
		return
	}
	if recorded {
		r.report.Skipped++
		return
	}
	r.deleteOrphanKey(ctx, info.Key)
}

// unrecorded returns the keys of infos that find does not report.
func unrecorded(ctx context.Context, infos []storage.Info, find func(context.Context, []string) ([]string, error)) ([]storage.Info, error) {
	if len(infos) == 0 {
		return nil, nil
	}
	keys := make([]string, len(infos))
	for i, info := range infos {
		keys[i] = info.Key
	}
	found, err := find(ctx, keys)
	if err != nil {
		return nil, err
	}
	var out []storage.Info
	for _, info := range infos {
		if _, ok := slices.BinarySearch(found, info.Key); !ok {
			out = append(out, info)
		}
	}
	return out, nil
}

// sessionExists reports whether upload session id is recorded.
func (r *run) sessionExists(ctx context.Context, id string) (bool, error) {
	_, err := r.meta.GetUpload(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up upload %s: %w", id, err)
	}
	return true, nil
}

// uploadKeyName returns the name of key below uploads/, and false for a
// key deeper down, which the blob store never writes.
func uploadKeyName(key string) (string, bool) {
	name, ok := strings.CutPrefix(key, uploadsPrefix+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// expireMultipart aborts the S3 multipart uploads created before the
// multipart expiry, with objects.Store.ExpireUploads, and reports each with
// the size of its parts.
func (r *run) expireMultipart(ctx context.Context) error {
	if r.objects == nil {
		return nil
	}
	before := r.now.Add(-r.opts.MultipartExpiry)
	uploads, err := r.meta.ListMultipartUploadsBefore(ctx, before, 0)
	if err != nil {
		return err
	}
	items := make([]Item, 0, len(uploads))
	for _, u := range uploads {
		parts, err := r.meta.ListParts(ctx, u.ID, 0, 0)
		if err != nil && !errors.Is(err, metadata.ErrNotFound) {
			r.fail("list parts of expired multipart upload failed", err, "upload", u.ID)
			continue
		}
		var size int64
		for _, p := range parts {
			size += p.Size
		}
		items = append(items, Item{Name: u.ID, Bytes: size})
	}

	if !r.report.DryRun && len(uploads) > 0 {
		removed, err := r.objects.ExpireUploads(ctx, before)
		if err != nil {
			return err
		}
		r.logger.Info("expired multipart uploads aborted", "count", removed)
	}
	r.report.ExpiredMultipart = append(r.report.ExpiredMultipart, items...)
	return nil
}
