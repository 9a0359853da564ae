package metadatatest

import (
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
)

func testLinkBlobIsPerRepository(e *env) {
	b := e.linkBlob("team/a", "layer content")

	got, err := e.store.LookupBlob(e.ctx, "team/a", b.Digest)
	if err != nil {
		e.t.Fatalf("LookupBlob(team/a): %v", err)
	}
	if got != b {
		e.t.Errorf("LookupBlob(team/a) = %+v, want %+v", got, b)
	}

	_, err = e.store.LookupBlob(e.ctx, "team/b", b.Digest)
	e.wantNotFound("LookupBlob(team/b) before linking", err)
	if err != nil && !strings.Contains(err.Error(), string(b.Digest)) {
		e.t.Errorf("LookupBlob(team/b) error %q does not name the digest", err)
	}

	e.linkBlob("team/b", "layer content")
	// Linking again must be harmless.
	e.linkBlob("team/b", "layer content")
	if _, err := e.store.LookupBlob(e.ctx, "team/b", b.Digest); err != nil {
		e.t.Errorf("LookupBlob(team/b) after linking: %v", err)
	}

	if err := e.store.UnlinkBlob(e.ctx, "team/a", b.Digest); err != nil {
		e.t.Fatalf("UnlinkBlob(team/a): %v", err)
	}
	_, err = e.store.LookupBlob(e.ctx, "team/a", b.Digest)
	e.wantNotFound("LookupBlob(team/a) after unlinking", err)
	if _, err := e.store.LookupBlob(e.ctx, "team/b", b.Digest); err != nil {
		e.t.Errorf("LookupBlob(team/b) after unlinking from team/a: %v", err)
	}

	e.wantNotFound("UnlinkBlob(team/a) twice", e.store.UnlinkBlob(e.ctx, "team/a", b.Digest))
	e.wantNotFound("UnlinkBlob(missing repository)", e.store.UnlinkBlob(e.ctx, "missing", b.Digest))
	unknown := digest.SHA256.FromBytes([]byte("never stored"))
	e.wantNotFound("UnlinkBlob(unknown blob)", e.store.UnlinkBlob(e.ctx, "team/b", unknown))
	_, err = e.store.LookupBlob(e.ctx, "missing", b.Digest)
	e.wantNotFound("LookupBlob(missing repository)", err)
}

func testLinkBlobCreatesRepository(e *env) {
	e.linkBlob("fresh", "config")

	tags, err := e.store.ListTags(e.ctx, "fresh", "", 0)
	if err != nil {
		e.t.Fatalf("ListTags(fresh): %v", err)
	}
	if len(tags) != 0 {
		e.t.Errorf("ListTags(fresh) = %q, want no tags", tags)
	}

	repos, err := e.store.ListRepositories(e.ctx, "", 0)
	if err != nil {
		e.t.Fatalf("ListRepositories: %v", err)
	}
	if len(repos) != 1 {
		e.t.Fatalf("ListRepositories returned %d repositories, want 1: %+v", len(repos), repos)
	}
	if repos[0].Name != "fresh" || repos[0].Manifests != 0 || repos[0].Tags != 0 {
		e.t.Errorf("ListRepositories()[0] = %+v, want fresh with 0 manifests and 0 tags", repos[0])
	}
	if repos[0].Created.IsZero() {
		e.t.Errorf("ListRepositories()[0].Created is zero")
	}
}

func testStatBlobIsGlobal(e *env) {
	b := e.linkBlob("a", "shared content")

	got, err := e.store.StatBlob(e.ctx, b.Digest)
	if err != nil {
		e.t.Fatalf("StatBlob: %v", err)
	}
	if got != b {
		e.t.Errorf("StatBlob = %+v, want %+v", got, b)
	}

	_, err = e.store.StatBlob(e.ctx, digest.SHA256.FromBytes([]byte("never stored")))
	e.wantNotFound("StatBlob(unknown)", err)
	_, err = e.store.BlobReferences(e.ctx, digest.SHA256.FromBytes([]byte("never stored")))
	e.wantNotFound("BlobReferences(unknown)", err)
}

func testBlobReferencesCountManifests(e *env) {
	layer := e.linkBlob("app", "shared layer")
	config1 := e.linkBlob("app", "config one")
	config2 := e.linkBlob("app", "config two")
	e.wantReferences(layer.Digest, 0)

	m1 := image("app", "one", config1.Digest, layer.Digest)
	m2 := image("app", "two", config2.Digest, layer.Digest)
	e.put(m1, "one")
	e.put(m2, "two")
	e.wantReferences(layer.Digest, 2)
	e.wantReferences(config1.Digest, 1)
	e.wantReferences(config2.Digest, 1)

	if err := e.store.DeleteManifest(e.ctx, "app", m1.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(one): %v", err)
	}
	e.wantReferences(layer.Digest, 1)
	e.wantReferences(config1.Digest, 0)
	e.wantReferences(config2.Digest, 1)

	if err := e.store.DeleteManifest(e.ctx, "app", m2.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(two): %v", err)
	}
	e.wantReferences(layer.Digest, 0)
	e.wantReferences(config2.Digest, 0)

	// The blobs stay recorded and linked after their last reference goes.
	if _, err := e.store.LookupBlob(e.ctx, "app", layer.Digest); err != nil {
		e.t.Errorf("LookupBlob(layer) after deleting both manifests: %v", err)
	}
}

func testPutManifestTwiceCountsOnce(e *env) {
	layer := e.linkBlob("app", "layer")
	m := image("app", "twice", layer.Digest)

	e.put(m, "first")
	e.put(m, "second")
	e.wantReferences(layer.Digest, 1)

	for _, tag := range []string{"first", "second"} {
		if got := e.taggedDigest("app", tag); got != m.Digest {
			e.t.Errorf("tag %s points at %s, want %s", tag, got, m.Digest)
		}
	}
}

func testRepeatedBlobCountsOnce(e *env) {
	layer := e.linkBlob("app", "layer listed twice")
	m := image("app", "repeat", layer.Digest, layer.Digest)

	e.put(m)
	e.wantReferences(layer.Digest, 1)

	if err := e.store.DeleteManifest(e.ctx, "app", m.Digest); err != nil {
		e.t.Fatalf("DeleteManifest: %v", err)
	}
	e.wantReferences(layer.Digest, 0)
}

func testSameManifestInTwoRepositories(e *env) {
	layer := e.linkBlob("a", "layer")
	e.linkBlob("b", "layer")
	ma := image("a", "same", layer.Digest)
	mb := image("b", "same", layer.Digest)
	if ma.Digest != mb.Digest {
		e.t.Fatalf("test setup: digests differ: %s and %s", ma.Digest, mb.Digest)
	}

	e.put(ma, "latest")
	e.put(mb, "latest")
	e.wantReferences(layer.Digest, 2)

	if err := e.store.DeleteManifest(e.ctx, "a", ma.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(a): %v", err)
	}
	e.wantReferences(layer.Digest, 1)
	if got := e.taggedDigest("b", "latest"); got != mb.Digest {
		e.t.Errorf("b:latest points at %s after deleting from a, want %s", got, mb.Digest)
	}
}

func testUnlinkBlobKeepsReferences(e *env) {
	layer := e.linkBlob("app", "layer")
	e.put(image("app", "held", layer.Digest), "v1")

	if err := e.store.UnlinkBlob(e.ctx, "app", layer.Digest); err != nil {
		e.t.Fatalf("UnlinkBlob: %v", err)
	}
	e.wantReferences(layer.Digest, 1)

	// No repository links the blob any more, so it cannot be mounted from
	// anywhere, although a manifest still references its content.
	_, err := e.store.StatBlob(e.ctx, layer.Digest)
	e.wantNotFound("StatBlob after unlinking from the last repository", err)
}
