package gc

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Reasons for deleting a manifest, as DeletedManifest.Reason reports them.
const (
	reasonOrphanReferrer = "orphan referrer"
	reasonUntagged       = "untagged"
)

// manifestLister is the signature of ListOrphanReferrers and
// ListUntaggedManifests.
type manifestLister func(ctx context.Context, before time.Time, after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error)

// listAllManifests returns every manifest that list returns for before.
func listAllManifests(ctx context.Context, list manifestLister, before time.Time) ([]metadata.ManifestRef, error) {
	var all []metadata.ManifestRef
	var cursor metadata.ManifestCursor
	for {
		page, err := list(ctx, before, cursor, pageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < pageSize {
			return all, nil
		}
		last := page[len(page)-1]
		cursor = metadata.ManifestCursor{Repository: last.Repository, Digest: last.Digest}
	}
}

// deleteOrphanReferrers deletes the referrers, older than the grace period,
// whose subject is gone, when the referrers policy is delete-with-subject.
func (r *run) deleteOrphanReferrers(ctx context.Context) error {
	if !r.opts.DeleteOrphanReferrers {
		return nil
	}
	refs, err := listAllManifests(ctx, r.meta.ListOrphanReferrers, r.cutoff)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		r.deleteManifest(ctx, ref, reasonOrphanReferrer, r.cutoff, r.meta.DeleteOrphanReferrer)
	}
	return nil
}

// deleteUntagged deletes the manifests that the untagged policy selects.
func (r *run) deleteUntagged(ctx context.Context) error {
	if r.opts.UntaggedAge <= 0 {
		return nil
	}
	before := r.now.Add(-r.opts.UntaggedAge)
	refs, err := listAllManifests(ctx, r.meta.ListUntaggedManifests, before)
	if err != nil {
		return err
	}
	// A real run deleted the orphan referrers a step earlier, so a dry run
	// leaves out those it listed there.
	reported := map[metadata.ManifestCursor]bool{}
	for _, m := range r.report.DeletedManifests {
		reported[metadata.ManifestCursor{Repository: m.Repository, Digest: m.Digest}] = true
	}
	for _, ref := range refs {
		if reported[metadata.ManifestCursor{Repository: ref.Repository, Digest: ref.Digest}] {
			continue
		}
		r.deleteManifest(ctx, ref, reasonUntagged, before, r.meta.DeleteUntaggedManifest)
	}
	return nil
}

// deleteManifest deletes one manifest with del, which checks again that it
// qualifies for before.
func (r *run) deleteManifest(ctx context.Context, ref metadata.ManifestRef, reason string, before time.Time,
	del func(ctx context.Context, repo string, d digest.Digest, before time.Time) error) {
	if !r.report.DryRun {
		err := del(ctx, ref.Repository, ref.Digest, before)
		if r.changed(err) {
			return
		}
		if err != nil {
			r.fail("delete manifest failed", err, "repository", ref.Repository, "digest", ref.Digest, "reason", reason)
			return
		}
		r.logger.Info("manifest deleted", "repository", ref.Repository, "digest", ref.Digest, "reason", reason,
			"subject", ref.Subject, "created", ref.Created)
	}
	r.report.DeletedManifests = append(r.report.DeletedManifests, DeletedManifest{ManifestRef: ref, Reason: reason})
}
