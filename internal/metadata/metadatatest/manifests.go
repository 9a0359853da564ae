package metadatatest

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

func testPutManifestRejectsMissingBlob(e *env) {
	missing := digest.SHA256.FromBytes([]byte("never uploaded"))
	m := image("fresh", "broken", missing)

	err := e.store.PutManifest(e.ctx, m, "latest")
	e.wantMissingReference(err, missing, false)
	e.wantNoRepository("fresh")
	_, err = e.store.GetManifest(e.ctx, "fresh", m.Digest)
	e.wantNotFound("GetManifest after rejected put", err)
}

func testPutManifestRejectsBlobOfOtherRepository(e *env) {
	own := e.linkBlob("target", "own config")
	foreign := e.linkBlob("other", "foreign layer")
	m := image("target", "borrows", own.Digest, foreign.Digest)

	err := e.store.PutManifest(e.ctx, m, "v1")
	e.wantMissingReference(err, foreign.Digest, false)

	_, err = e.store.GetManifest(e.ctx, "target", m.Digest)
	e.wantNotFound("GetManifest after rejected put", err)
	_, err = e.store.GetTaggedManifest(e.ctx, "target", "v1")
	e.wantNotFound("GetTaggedManifest(v1) after rejected put", err)
	if tags := e.tags("target"); len(tags) != 0 {
		e.t.Errorf("ListTags(target) = %q after rejected put, want no tags", tags)
	}
	e.wantReferences(own.Digest, 0)
	e.wantReferences(foreign.Digest, 0)
}

func testPutManifestRejectsMissingChild(e *env) {
	missing := digest.SHA256.FromBytes([]byte("never pushed manifest"))
	ix := index("fresh", "broken index", missing)

	err := e.store.PutManifest(e.ctx, ix, "latest")
	e.wantMissingReference(err, missing, true)
	e.wantNoRepository("fresh")

	// A manifest stored in another repository does not count either.
	layer := e.linkBlob("other", "layer")
	child := image("other", "child", layer.Digest)
	e.put(child)
	err = e.store.PutManifest(e.ctx, index("target", "cross-repository index", child.Digest), "latest")
	e.wantMissingReference(err, child.Digest, true)
	e.wantNoRepository("target")
}

func testPutIndexWithChildren(e *env) {
	layer := e.linkBlob("multi", "layer")
	amd64 := image("multi", "amd64", layer.Digest)
	arm64 := image("multi", "arm64", layer.Digest)
	e.put(amd64)
	e.put(arm64)
	ix := index("multi", "index", amd64.Digest, arm64.Digest, amd64.Digest)

	e.put(ix, "latest")
	got, err := e.store.GetTaggedManifest(e.ctx, "multi", "latest")
	if err != nil {
		e.t.Fatalf("GetTaggedManifest(latest): %v", err)
	}
	if got.Digest != ix.Digest || got.MediaType != indexMediaType {
		e.t.Errorf("GetTaggedManifest(latest) = %s %s, want %s %s", got.Digest, got.MediaType, ix.Digest, indexMediaType)
	}
	// An index lists manifests, not blobs, so it adds no blob reference.
	e.wantReferences(layer.Digest, 2)

	// A child may be deleted while an index still lists it.
	if err := e.store.DeleteManifest(e.ctx, "multi", arm64.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(arm64 child): %v", err)
	}
	if got := e.taggedDigest("multi", "latest"); got != ix.Digest {
		e.t.Errorf("latest points at %s after deleting a child, want %s", got, ix.Digest)
	}
	if err := e.store.DeleteManifest(e.ctx, "multi", ix.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(index): %v", err)
	}
	e.wantReferences(layer.Digest, 1)
}

func testGetManifestMissing(e *env) {
	m := image("app", "stored")
	e.put(m, "v1")
	unknown := digest.SHA256.FromBytes([]byte("unknown manifest"))

	_, err := e.store.GetManifest(e.ctx, "app", unknown)
	e.wantNotFound("GetManifest(unknown digest)", err)
	if err != nil && !strings.Contains(err.Error(), string(unknown)) {
		e.t.Errorf("GetManifest error %q does not name the digest", err)
	}
	_, err = e.store.GetManifest(e.ctx, "missing", m.Digest)
	e.wantNotFound("GetManifest(missing repository)", err)
	_, err = e.store.GetTaggedManifest(e.ctx, "app", "v2")
	e.wantNotFound("GetTaggedManifest(unknown tag)", err)
	_, err = e.store.GetTaggedManifest(e.ctx, "missing", "v1")
	e.wantNotFound("GetTaggedManifest(missing repository)", err)
}

func testGetTaggedManifestExactBytes(e *env) {
	config := e.linkBlob("app", "config")
	subject := digest.SHA256.FromBytes([]byte("subject"))
	// Whitespace, key order and escapes that a JSON round trip would change.
	content := []byte("{\n  \"schemaVersion\" : 2,\t\"mediaType\":\"" + imageMediaType + "\",\n  \"b\":\"\\u00e9\", \"a\":1 }\n")
	m := &metadata.Manifest{
		Repository:   "app",
		Digest:       digest.SHA256.FromBytes(content),
		MediaType:    imageMediaType,
		Content:      content,
		ArtifactType: "application/vnd.example.thing",
		Subject:      subject,
		Annotations:  map[string]string{"org.opencontainers.image.title": "exact", "empty": ""},
		Blobs:        []digest.Digest{config.Digest},
		Created:      created,
	}
	e.put(m, "exact")

	for _, get := range []struct {
		name string
		call func() (*metadata.Manifest, error)
	}{
		{"GetTaggedManifest", func() (*metadata.Manifest, error) { return e.store.GetTaggedManifest(e.ctx, "app", "exact") }},
		{"GetManifest", func() (*metadata.Manifest, error) { return e.store.GetManifest(e.ctx, "app", m.Digest) }},
	} {
		got, err := get.call()
		if err != nil {
			e.t.Fatalf("%s: %v", get.name, err)
		}
		if !bytes.Equal(got.Content, content) {
			e.t.Errorf("%s content = %q, want %q", get.name, got.Content, content)
		}
		if got.Repository != "app" {
			e.t.Errorf("%s repository = %q, want app", get.name, got.Repository)
		}
		if got.Digest != m.Digest {
			e.t.Errorf("%s digest = %s, want %s", get.name, got.Digest, m.Digest)
		}
		if got.MediaType != m.MediaType {
			e.t.Errorf("%s media type = %q, want %q", get.name, got.MediaType, m.MediaType)
		}
		if got.ArtifactType != m.ArtifactType {
			e.t.Errorf("%s artifact type = %q, want %q", get.name, got.ArtifactType, m.ArtifactType)
		}
		if got.Subject != subject {
			e.t.Errorf("%s subject = %s, want %s", get.name, got.Subject, subject)
		}
		if !maps.Equal(got.Annotations, m.Annotations) {
			e.t.Errorf("%s annotations = %v, want %v", get.name, got.Annotations, m.Annotations)
		}
		if !got.Created.Equal(created) {
			e.t.Errorf("%s created = %v, want %v", get.name, got.Created, created)
		}
	}
}

func testTagMoves(e *env) {
	old := image("app", "old")
	next := image("app", "new")
	e.put(old, "latest")
	e.put(next, "latest")

	if got := e.taggedDigest("app", "latest"); got != next.Digest {
		e.t.Errorf("latest points at %s, want %s", got, next.Digest)
	}
	if _, err := e.store.GetManifest(e.ctx, "app", old.Digest); err != nil {
		e.t.Errorf("GetManifest(old) after the tag moved: %v", err)
	}
	if tags := e.tags("app"); !slices.Equal(tags, []string{"latest"}) {
		e.t.Errorf("ListTags(app) = %q, want [latest]", tags)
	}
}

func testDeleteTagKeepsManifest(e *env) {
	m := image("app", "tagged")
	e.put(m, "v1", "v2")

	if err := e.store.DeleteTag(e.ctx, "app", "v1"); err != nil {
		e.t.Fatalf("DeleteTag(v1): %v", err)
	}
	_, err := e.store.GetTaggedManifest(e.ctx, "app", "v1")
	e.wantNotFound("GetTaggedManifest(v1) after DeleteTag", err)
	if _, err := e.store.GetManifest(e.ctx, "app", m.Digest); err != nil {
		e.t.Errorf("GetManifest after DeleteTag: %v", err)
	}
	if tags := e.tags("app"); !slices.Equal(tags, []string{"v2"}) {
		e.t.Errorf("ListTags(app) = %q, want [v2]", tags)
	}

	e.wantNotFound("DeleteTag(v1) twice", e.store.DeleteTag(e.ctx, "app", "v1"))
	e.wantNotFound("DeleteTag(missing repository)", e.store.DeleteTag(e.ctx, "missing", "v2"))
}

func testDeleteManifestRemovesTags(e *env) {
	doomed := image("app", "doomed")
	kept := image("app", "kept")
	e.put(doomed, "a", "b", "c")
	e.put(kept, "d")

	if err := e.store.DeleteManifest(e.ctx, "app", doomed.Digest); err != nil {
		e.t.Fatalf("DeleteManifest: %v", err)
	}
	for _, tag := range []string{"a", "b", "c"} {
		_, err := e.store.GetTaggedManifest(e.ctx, "app", tag)
		e.wantNotFound("GetTaggedManifest("+tag+") after DeleteManifest", err)
	}
	if tags := e.tags("app"); !slices.Equal(tags, []string{"d"}) {
		e.t.Errorf("ListTags(app) = %q, want [d]", tags)
	}
	_, err := e.store.GetManifest(e.ctx, "app", doomed.Digest)
	e.wantNotFound("GetManifest after DeleteManifest", err)

	err = e.store.DeleteManifest(e.ctx, "app", doomed.Digest)
	e.wantNotFound("DeleteManifest twice", err)
	if err != nil && !strings.Contains(err.Error(), string(doomed.Digest)) {
		e.t.Errorf("DeleteManifest error %q does not name the digest", err)
	}
	e.wantNotFound("DeleteManifest(missing repository)", e.store.DeleteManifest(e.ctx, "missing", kept.Digest))
}

func testDigestShapedTagIsOrdinary(e *env) {
	subject := image("app", "subject")
	other := image("app", "other")
	e.put(subject)
	// A tag in the referrers tag schema, pointing somewhere else than its name.
	tag := "sha256-" + subject.Digest.Encoded()
	e.put(other, tag)

	if got := e.taggedDigest("app", tag); got != other.Digest {
		e.t.Errorf("tag %s points at %s, want %s", tag, got, other.Digest)
	}
	if tags := e.tags("app"); !slices.Equal(tags, []string{tag}) {
		e.t.Errorf("ListTags(app) = %q, want [%s]", tags, tag)
	}
	got, err := e.store.GetManifest(e.ctx, "app", subject.Digest)
	if err != nil {
		e.t.Fatalf("GetManifest(subject): %v", err)
	}
	if got.Digest != subject.Digest {
		e.t.Errorf("GetManifest(subject) digest = %s, want %s", got.Digest, subject.Digest)
	}
	referrers, err := e.store.ListReferrers(e.ctx, "app", subject.Digest, "")
	if err != nil {
		e.t.Fatalf("ListReferrers: %v", err)
	}
	if len(referrers) != 0 {
		e.t.Errorf("ListReferrers = %+v, want none", referrers)
	}
}

func testConcurrentPutManifest(e *env) {
	const writers = 8
	layer := e.linkBlob("busy", "shared layer")

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			m := image("busy", fmt.Sprintf("writer %d", i), layer.Digest)
			errs[i] = e.store.PutManifest(e.ctx, m, fmt.Sprintf("t%d", i))
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			e.t.Errorf("PutManifest from writer %d: %v", i, err)
		}
	}
	want := []string{"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"}
	if tags := e.tags("busy"); !slices.Equal(tags, want) {
		e.t.Errorf("ListTags(busy) = %q, want %q", tags, want)
	}
	e.wantReferences(layer.Digest, writers)
}
