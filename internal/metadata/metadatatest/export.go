package metadatatest

import (
	"slices"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// testListRepositoryBlobs checks that the links of one repository list in
// digest order, page by page, without the links of other repositories.
func testListRepositoryBlobs(e *env) {
	var want []digest.Digest
	for _, content := range []string{"layer-c", "layer-a", "layer-b"} {
		want = append(want, e.linkBlob("app", content).Digest)
	}
	e.linkBlob("other", "layer-other")
	slices.Sort(want)

	var got []digest.Digest
	var after digest.Digest
	for {
		page, err := e.store.ListRepositoryBlobs(e.ctx, "app", after, 2)
		if err != nil {
			e.t.Fatalf("ListRepositoryBlobs(app, %q): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		for _, b := range page {
			if b.Size != int64(len("layer-a")) {
				e.t.Errorf("blob %s: size %d, want %d", b.Digest, b.Size, len("layer-a"))
			}
			got = append(got, b.Digest)
		}
		after = page[len(page)-1].Digest
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("ListRepositoryBlobs(app) = %v, want %v", got, want)
	}

	_, err := e.store.ListRepositoryBlobs(e.ctx, "missing", "", 0)
	e.wantNotFound("ListRepositoryBlobs(missing)", err)
}

// testListManifests checks that manifests list in digest order with their
// exact content, facts and references, page by page.
func testListManifests(e *env) {
	config := e.linkBlob("app", "config")
	layer := e.linkBlob("app", "layer")
	first := image("app", "first", layer.Digest, config.Digest)
	second := image("app", "second", config.Digest)
	second.Annotations = map[string]string{"org.example": "yes"}
	e.put(first)
	e.put(second)
	signature := image("app", "signature", config.Digest)
	signature.Subject = first.Digest
	signature.ArtifactType = "application/vnd.example.signature"
	e.put(signature)
	idx := index("app", "index", second.Digest, first.Digest)
	e.put(idx)
	e.put(image("other", "elsewhere", e.linkBlob("other", "x").Digest))

	want := []*metadata.Manifest{first, second, signature, idx}
	slices.SortFunc(want, func(a, b *metadata.Manifest) int { return compare(a.Digest, b.Digest) })

	var got []metadata.Manifest
	var after digest.Digest
	for {
		page, err := e.store.ListManifests(e.ctx, "app", after, 3)
		if err != nil {
			e.t.Fatalf("ListManifests(app, %q): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Digest
	}
	if len(got) != len(want) {
		e.t.Fatalf("ListManifests(app) returned %d manifests, want %d", len(got), len(want))
	}
	for i, w := range want {
		e.wantExportedManifest(got[i], w)
	}

	_, err := e.store.ListManifests(e.ctx, "missing", "", 0)
	e.wantNotFound("ListManifests(missing)", err)
}

// wantExportedManifest compares a listed manifest with the one stored.
func (e *env) wantExportedManifest(got metadata.Manifest, want *metadata.Manifest) {
	e.t.Helper()
	sorted := func(ds []digest.Digest) []digest.Digest {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s
	}
	switch {
	case got.Repository != want.Repository || got.Digest != want.Digest:
		e.t.Errorf("listed manifest %s@%s, want %s@%s", got.Repository, got.Digest, want.Repository, want.Digest)
	case string(got.Content) != string(want.Content) || got.MediaType != want.MediaType:
		e.t.Errorf("manifest %s: content or media type differ", want.Digest)
	case got.ArtifactType != want.ArtifactType || got.Subject != want.Subject:
		e.t.Errorf("manifest %s: artifact type %q subject %q, want %q and %q",
			want.Digest, got.ArtifactType, got.Subject, want.ArtifactType, want.Subject)
	case !got.Created.Equal(want.Created):
		e.t.Errorf("manifest %s: created %v, want %v", want.Digest, got.Created, want.Created)
	case len(got.Annotations) != len(want.Annotations) || got.Annotations["org.example"] != want.Annotations["org.example"]:
		e.t.Errorf("manifest %s: annotations %v, want %v", want.Digest, got.Annotations, want.Annotations)
	case !slices.Equal(got.Blobs, sorted(want.Blobs)):
		e.t.Errorf("manifest %s: blobs %v, want %v", want.Digest, got.Blobs, sorted(want.Blobs))
	case !slices.Equal(got.Children, sorted(want.Children)):
		e.t.Errorf("manifest %s: children %v, want %v", want.Digest, got.Children, sorted(want.Children))
	}
}

// testListTagTargets checks that tags list in byte order with the digests
// they point at.
func testListTagTargets(e *env) {
	config := e.linkBlob("app", "config")
	one := image("app", "one", config.Digest)
	two := image("app", "two", config.Digest)
	e.put(one, "v1", "latest")
	e.put(two, "v2", "Beta")

	want := []metadata.Tag{
		{Name: "Beta", Digest: two.Digest}, {Name: "latest", Digest: one.Digest},
		{Name: "v1", Digest: one.Digest}, {Name: "v2", Digest: two.Digest},
	}
	var got []metadata.Tag
	after := ""
	for {
		page, err := e.store.ListTagTargets(e.ctx, "app", after, 3)
		if err != nil {
			e.t.Fatalf("ListTagTargets(app, %q): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1].Name
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("ListTagTargets(app) = %v, want %v", got, want)
	}

	_, err := e.store.ListTagTargets(e.ctx, "missing", "", 0)
	e.wantNotFound("ListTagTargets(missing)", err)
}

func compare(a, b digest.Digest) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
