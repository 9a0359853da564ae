package metadatatest

import (
	"slices"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// collectionGraph is a set of manifests that covers every rule of
// ListUntaggedManifests and ListOrphanReferrers. Every manifest is created
// at created except fresh, which is created two hours later.
type collectionGraph struct {
	layer          metadata.Blob
	tagged         *metadata.Manifest // tagged v1 in app
	untagged       *metadata.Manifest // no tag, no index, no subject
	child          *metadata.Manifest // listed by index
	index          *metadata.Manifest // tagged multi
	signature      *metadata.Manifest // subject: tagged
	dangling       *metadata.Manifest // subject: a digest nothing has
	blobReferrer   *metadata.Manifest // subject: layer, a blob row
	fresh          *metadata.Manifest // untagged, created after the cutoff
	taggedDangling *metadata.Manifest // subject: nothing, but tagged
	crossRepo      *metadata.Manifest // in other; subject: tagged, which other lacks
}

// collectionCutoff is after every manifest of the graph but fresh.
var collectionCutoff = created.Add(time.Hour)

// putCollectionGraph stores the graph.
func (e *env) putCollectionGraph() collectionGraph {
	const signatureType = "application/vnd.example.signature"
	nothing := digest.SHA256.FromBytes([]byte("a subject nothing has"))
	g := collectionGraph{layer: e.linkBlob("app", "layer")}
	g.tagged = image("app", "tagged", g.layer.Digest)
	g.untagged = image("app", "untagged", g.layer.Digest)
	g.child = image("app", "child", g.layer.Digest)
	g.index = index("app", "index", g.child.Digest)
	g.signature = referrer("app", "signature", g.tagged.Digest, signatureType, nil)
	g.dangling = referrer("app", "dangling", nothing, signatureType, nil)
	g.blobReferrer = referrer("app", "blob subject", g.layer.Digest, signatureType, nil)
	g.fresh = image("app", "fresh", g.layer.Digest)
	g.fresh.Created = created.Add(2 * time.Hour)
	g.taggedDangling = referrer("app", "tagged dangling", nothing, signatureType, nil)
	g.crossRepo = referrer("other", "cross repository", g.tagged.Digest, signatureType, nil)

	e.put(g.tagged, "v1")
	e.put(g.untagged)
	e.put(g.child)
	e.put(g.index, "multi")
	for _, m := range []*metadata.Manifest{g.signature, g.dangling, g.blobReferrer, g.fresh, g.crossRepo} {
		e.put(m)
	}
	e.put(g.taggedDangling, "sig")
	return g
}

// manifestKeys returns "repository@digest" for each manifest, sorted as
// the collection listings sort.
func manifestKeys(ms ...*metadata.Manifest) []string {
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.Repository + "@" + string(m.Digest)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ra, da, _ := strings.Cut(a, "@")
		rb, db, _ := strings.Cut(b, "@")
		if c := strings.Compare(ra, rb); c != 0 {
			return c
		}
		return strings.Compare(da, db)
	})
	return keys
}

// listManifestPages calls list with pages of one manifest until it returns
// none, and returns "repository@digest" for each result.
func (e *env) listManifestPages(call string, list func(after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error)) []string {
	e.t.Helper()
	var keys []string
	var cursor metadata.ManifestCursor
	for range 20 {
		page, err := list(cursor, 1)
		if err != nil {
			e.t.Fatalf("%s(after %+v): %v", call, cursor, err)
		}
		if len(page) == 0 {
			return keys
		}
		for _, ref := range page {
			keys = append(keys, ref.Repository+"@"+string(ref.Digest))
		}
		last := page[len(page)-1]
		cursor = metadata.ManifestCursor{Repository: last.Repository, Digest: last.Digest}
	}
	e.t.Fatalf("%s returned more than 20 pages", call)
	return nil
}

// untaggedKeys lists ListUntaggedManifests page by page.
func (e *env) untaggedKeys(before time.Time) []string {
	e.t.Helper()
	return e.listManifestPages("ListUntaggedManifests", func(after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
		return e.store.ListUntaggedManifests(e.ctx, before, after, limit)
	})
}

// orphanKeys lists ListOrphanReferrers page by page.
func (e *env) orphanKeys(before time.Time) []string {
	e.t.Helper()
	return e.listManifestPages("ListOrphanReferrers", func(after metadata.ManifestCursor, limit int) ([]metadata.ManifestRef, error) {
		return e.store.ListOrphanReferrers(e.ctx, before, after, limit)
	})
}

func testListUntaggedManifests(e *env) {
	g := e.putCollectionGraph()

	want := manifestKeys(g.untagged, g.dangling, g.crossRepo)
	if got := e.untaggedKeys(collectionCutoff); !slices.Equal(got, want) {
		e.t.Errorf("ListUntaggedManifests = %q, want %q", got, want)
	}
	if got := e.untaggedKeys(created); len(got) != 0 {
		e.t.Errorf("ListUntaggedManifests before creation = %q, want none", got)
	}

	refs, err := e.store.ListUntaggedManifests(e.ctx, collectionCutoff, metadata.ManifestCursor{Repository: "other"}, 0)
	if err != nil {
		e.t.Fatalf("ListUntaggedManifests(after other): %v", err)
	}
	wantRef := metadata.ManifestRef{Repository: "other", Digest: g.crossRepo.Digest, Subject: g.tagged.Digest,
		Size: int64(len(g.crossRepo.Content)), Created: created}
	if len(refs) != 1 || refs[0] != wantRef {
		e.t.Errorf("ListUntaggedManifests(after other) = %+v, want [%+v]", refs, wantRef)
	}
}

func testDeleteUntaggedManifest(e *env) {
	g := e.putCollectionGraph()
	e.wantReferences(g.layer.Digest, 4)

	rejected := []struct {
		name string
		m    *metadata.Manifest
	}{
		{"tagged", g.tagged},
		{"listed by an index", g.child},
		{"created after the cutoff", g.fresh},
		{"referrer of a live subject", g.signature},
	}
	for _, r := range rejected {
		err := e.store.DeleteUntaggedManifest(e.ctx, r.m.Repository, r.m.Digest, collectionCutoff)
		e.wantConflict("DeleteUntaggedManifest of a manifest "+r.name, err)
	}

	if err := e.store.DeleteUntaggedManifest(e.ctx, "app", g.untagged.Digest, collectionCutoff); err != nil {
		e.t.Fatalf("DeleteUntaggedManifest: %v", err)
	}
	_, err := e.store.GetManifest(e.ctx, "app", g.untagged.Digest)
	e.wantNotFound("GetManifest after DeleteUntaggedManifest", err)
	e.wantReferences(g.layer.Digest, 3)
	err = e.store.DeleteUntaggedManifest(e.ctx, "app", g.untagged.Digest, collectionCutoff)
	e.wantNotFound("DeleteUntaggedManifest twice", err)
	err = e.store.DeleteUntaggedManifest(e.ctx, "missing", g.untagged.Digest, collectionCutoff)
	e.wantNotFound("DeleteUntaggedManifest in a missing repository", err)

	// Deleting the index leaves its child unrooted.
	if err := e.store.DeleteManifest(e.ctx, "app", g.index.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(index): %v", err)
	}
	if err := e.store.DeleteUntaggedManifest(e.ctx, "app", g.child.Digest, collectionCutoff); err != nil {
		e.t.Errorf("DeleteUntaggedManifest of a child whose index is gone: %v", err)
	}
	e.wantReferences(g.layer.Digest, 2)

	// Tagging a manifest takes it out of the listing.
	e.put(g.dangling, "kept")
	err = e.store.DeleteUntaggedManifest(e.ctx, "app", g.dangling.Digest, collectionCutoff)
	e.wantConflict("DeleteUntaggedManifest after tagging", err)
}

func testOrphanReferrers(e *env) {
	g := e.putCollectionGraph()

	want := manifestKeys(g.dangling, g.crossRepo)
	if got := e.orphanKeys(collectionCutoff); !slices.Equal(got, want) {
		e.t.Errorf("ListOrphanReferrers = %q, want %q", got, want)
	}

	err := e.store.DeleteOrphanReferrer(e.ctx, "app", g.signature.Digest, collectionCutoff)
	e.wantConflict("DeleteOrphanReferrer with a live subject", err)
	err = e.store.DeleteOrphanReferrer(e.ctx, "app", g.untagged.Digest, collectionCutoff)
	e.wantConflict("DeleteOrphanReferrer of a manifest without subject", err)
	err = e.store.DeleteOrphanReferrer(e.ctx, "app", g.taggedDangling.Digest, collectionCutoff)
	e.wantConflict("DeleteOrphanReferrer of a tagged referrer", err)
	err = e.store.DeleteOrphanReferrer(e.ctx, "app", g.dangling.Digest, created)
	e.wantConflict("DeleteOrphanReferrer before the cutoff", err)

	// Deleting the subject orphans its referrers in the same repository.
	if err := e.store.DeleteManifest(e.ctx, "app", g.tagged.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(subject): %v", err)
	}
	want = manifestKeys(g.signature, g.dangling, g.crossRepo)
	if got := e.orphanKeys(collectionCutoff); !slices.Equal(got, want) {
		e.t.Errorf("ListOrphanReferrers after deleting the subject = %q, want %q", got, want)
	}
	if err := e.store.DeleteOrphanReferrer(e.ctx, "app", g.signature.Digest, collectionCutoff); err != nil {
		e.t.Fatalf("DeleteOrphanReferrer: %v", err)
	}
	_, err = e.store.GetManifest(e.ctx, "app", g.signature.Digest)
	e.wantNotFound("GetManifest after DeleteOrphanReferrer", err)
	err = e.store.DeleteOrphanReferrer(e.ctx, "app", g.signature.Digest, collectionCutoff)
	e.wantNotFound("DeleteOrphanReferrer twice", err)

	// A subject that is a blob row stays live until the row goes.
	if _, err := e.store.UnlinkUnreferencedBlob(e.ctx, g.layer.Digest, future); err == nil {
		e.t.Errorf("UnlinkUnreferencedBlob of a referenced layer succeeded")
	}
	want = manifestKeys(g.dangling, g.crossRepo)
	if got := e.orphanKeys(collectionCutoff); !slices.Equal(got, want) {
		e.t.Errorf("ListOrphanReferrers with the layer stored = %q, want %q", got, want)
	}
}
