package metadatatest

import (
	"maps"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// byteOrderTags are valid tags in byte order: '-' < '.' < digits <
// uppercase < '_' < lowercase. A case-insensitive or natural sort orders
// them differently.
var byteOrderTags = []string{
	"1.0", "10", "9", "A", "Latest", "Z", "_hidden", "a-b", "a.b", "a_b", "ab", "latest", "v1", "v1-rc", "v1.0", "v10", "v1_0", "v9",
}

// putTags stores one manifest in repo and points every tag at it.
func (e *env) putTags(repo string, tags []string) {
	e.t.Helper()
	shuffled := slices.Clone(tags)
	slices.Reverse(shuffled)
	e.put(image(repo, "tagged"), shuffled...)
}

func testListTagsByteOrder(e *env) {
	if !slices.IsSorted(byteOrderTags) {
		e.t.Fatalf("test setup: byteOrderTags is not in byte order")
	}
	e.putTags("app", byteOrderTags)

	if got := e.tags("app"); !slices.Equal(got, byteOrderTags) {
		e.t.Errorf("ListTags(app) =\n%q\nwant\n%q", got, byteOrderTags)
	}
}

func testListTagsPagination(e *env) {
	e.putTags("app", byteOrderTags)

	var pages [][]string
	last := ""
	for range len(byteOrderTags) + 1 {
		page, err := e.store.ListTags(e.ctx, "app", last, 4)
		if err != nil {
			e.t.Fatalf("ListTags(app, last=%q, n=4): %v", last, err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		last = page[len(page)-1]
	}

	want := slices.Collect(slices.Chunk(byteOrderTags, 4))
	if !slices.EqualFunc(pages, want, slices.Equal) {
		e.t.Errorf("ListTags pages =\n%q\nwant\n%q", pages, want)
	}

	// A cursor that is not a tag starts after the place it would sort.
	page, err := e.store.ListTags(e.ctx, "app", "M", 2)
	if err != nil {
		e.t.Fatalf("ListTags(app, last=M, n=2): %v", err)
	}
	if !slices.Equal(page, []string{"Z", "_hidden"}) {
		e.t.Errorf("ListTags(app, last=M, n=2) = %q, want [Z _hidden]", page)
	}

	page, err = e.store.ListTags(e.ctx, "app", byteOrderTags[len(byteOrderTags)-1], 4)
	if err != nil {
		e.t.Fatalf("ListTags(app, last=final tag): %v", err)
	}
	if len(page) != 0 {
		e.t.Errorf("ListTags(app, last=final tag) = %q, want no tags", page)
	}
}

func testListTagsMissingRepository(e *env) {
	_, err := e.store.ListTags(e.ctx, "missing", "", 10)
	e.wantNotFound("ListTags(missing)", err)
	if err != nil && !strings.Contains(err.Error(), "missing") {
		e.t.Errorf("ListTags error %q does not name the repository", err)
	}
}

func testListRepositoriesPagination(e *env) {
	// Byte order: '-' < '.' < '/' < '_' < letters.
	names := []string{"a-b", "a.b", "a/b", "a/b/c", "a_b", "ab", "z"}
	for i, name := range slices.Backward(names) {
		tags := make([]string, i)
		for j := range tags {
			tags[j] = "t" + string(rune('0'+j))
		}
		e.put(image(name, "first"), tags...)
		e.put(image(name, "second"))
	}

	var got []metadata.RepositoryInfo
	last := ""
	for range len(names) + 1 {
		page, err := e.store.ListRepositories(e.ctx, last, 3)
		if err != nil {
			e.t.Fatalf("ListRepositories(last=%q, n=3): %v", last, err)
		}
		if len(page) > 3 {
			e.t.Fatalf("ListRepositories(last=%q, n=3) returned %d repositories", last, len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		last = page[len(page)-1].Name
	}

	if len(got) != len(names) {
		e.t.Fatalf("ListRepositories returned %d repositories in all, want %d: %+v", len(got), len(names), got)
	}
	for i, info := range got {
		if info.Name != names[i] {
			e.t.Errorf("repository %d = %q, want %q", i, info.Name, names[i])
		}
		if info.Manifests != 2 {
			e.t.Errorf("repository %s has %d manifests, want 2", info.Name, info.Manifests)
		}
		if info.Tags != int64(i) {
			e.t.Errorf("repository %s has %d tags, want %d", info.Name, info.Tags, i)
		}
	}
}

// referrer builds an artifact manifest in repo whose subject is subject.
func referrer(repo, name string, subject digest.Digest, artifactType string, annotations map[string]string) *metadata.Manifest {
	m := image(repo, name)
	m.ArtifactType = artifactType
	m.Subject = subject
	m.Annotations = annotations
	return m
}

func testListReferrers(e *env) {
	const sbom, signature = "application/vnd.example.sbom", "application/vnd.example.signature"
	subject := image("app", "subject")
	e.put(subject, "v1")
	all := []*metadata.Manifest{
		referrer("app", "sbom one", subject.Digest, sbom, map[string]string{"org.example.kind": "spdx"}),
		referrer("app", "signature", subject.Digest, signature, nil),
		referrer("app", "sbom two", subject.Digest, sbom, map[string]string{"org.example.kind": "cyclonedx", "x": "y"}),
	}
	for _, m := range all {
		e.put(m)
	}
	// Neither of these refers to subject in app.
	e.put(referrer("app", "unrelated", digest.SHA256.FromBytes([]byte("other subject")), sbom, nil))
	e.put(referrer("elsewhere", "sbom one", subject.Digest, sbom, nil))

	slices.SortFunc(all, func(a, b *metadata.Manifest) int { return strings.Compare(string(a.Digest), string(b.Digest)) })
	var sboms []*metadata.Manifest
	for _, m := range all {
		if m.ArtifactType == sbom {
			sboms = append(sboms, m)
		}
	}

	for _, tc := range []struct {
		filter string
		want   []*metadata.Manifest
	}{
		{"", all},
		{sbom, sboms},
		{"application/vnd.example.unknown", nil},
	} {
		got, err := e.store.ListReferrers(e.ctx, "app", subject.Digest, tc.filter)
		if err != nil {
			e.t.Fatalf("ListReferrers(filter=%q): %v", tc.filter, err)
		}
		e.wantReferrers(tc.filter, got, tc.want)
	}

	got, err := e.store.ListReferrers(e.ctx, "missing", subject.Digest, "")
	if err != nil {
		e.t.Fatalf("ListReferrers(missing repository): %v", err)
	}
	if len(got) != 0 {
		e.t.Errorf("ListReferrers(missing repository) = %+v, want none", got)
	}
}

// wantReferrers compares a referrers list with the manifests it should describe.
func (e *env) wantReferrers(filter string, got []metadata.Referrer, want []*metadata.Manifest) {
	e.t.Helper()
	if len(got) != len(want) {
		e.t.Errorf("ListReferrers(filter=%q) returned %d referrers, want %d: %+v", filter, len(got), len(want), got)
		return
	}
	for i, m := range want {
		r := got[i]
		if r.Digest != m.Digest {
			e.t.Errorf("ListReferrers(filter=%q)[%d].Digest = %s, want %s", filter, i, r.Digest, m.Digest)
		}
		if r.MediaType != m.MediaType {
			e.t.Errorf("ListReferrers(filter=%q)[%d].MediaType = %q, want %q", filter, i, r.MediaType, m.MediaType)
		}
		if r.Size != int64(len(m.Content)) {
			e.t.Errorf("ListReferrers(filter=%q)[%d].Size = %d, want %d", filter, i, r.Size, len(m.Content))
		}
		if r.ArtifactType != m.ArtifactType {
			e.t.Errorf("ListReferrers(filter=%q)[%d].ArtifactType = %q, want %q", filter, i, r.ArtifactType, m.ArtifactType)
		}
		if !maps.Equal(r.Annotations, m.Annotations) {
			e.t.Errorf("ListReferrers(filter=%q)[%d].Annotations = %v, want %v", filter, i, r.Annotations, m.Annotations)
		}
	}
}

func testReferrerBeforeSubject(e *env) {
	subject := image("app", "late subject")
	early := referrer("app", "early signature", subject.Digest, "application/vnd.example.signature",
		map[string]string{"org.example.signer": "ci"})

	e.put(early)
	got, err := e.store.ListReferrers(e.ctx, "app", subject.Digest, "")
	if err != nil {
		e.t.Fatalf("ListReferrers before the subject exists: %v", err)
	}
	e.wantReferrers("", got, []*metadata.Manifest{early})

	e.put(subject, "v1")
	got, err = e.store.ListReferrers(e.ctx, "app", subject.Digest, "")
	if err != nil {
		e.t.Fatalf("ListReferrers after the subject exists: %v", err)
	}
	e.wantReferrers("", got, []*metadata.Manifest{early})
}
