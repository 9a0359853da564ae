package migrate_test

import (
	"io"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
)

// deployment is an opened pair of stores.
type deployment struct {
	meta   metadata.Store
	driver storage.Driver
}

// wantSame checks that dst holds exactly what src holds: the same
// repositories, blob links, manifests (byte for byte), tags, referrers,
// buckets, objects, blob rows and reference counts. Blob content must be
// under the same keys with the same sizes, and a part of it is read back.
func wantSame(t *testing.T, src, dst deployment) {
	t.Helper()
	ctx := t.Context()
	repos := listAll(t, "repositories", func(after string) ([]metadata.RepositoryInfo, string, error) {
		page, err := src.meta.ListRepositories(ctx, after, 100)
		return page, lastOf(page, func(r metadata.RepositoryInfo) string { return r.Name }), err
	})
	dstRepos := listAll(t, "target repositories", func(after string) ([]metadata.RepositoryInfo, string, error) {
		page, err := dst.meta.ListRepositories(ctx, after, 100)
		return page, lastOf(page, func(r metadata.RepositoryInfo) string { return r.Name }), err
	})
	if len(repos) != len(dstRepos) {
		t.Fatalf("target has %d repositories, want %d", len(dstRepos), len(repos))
	}
	for i, r := range repos {
		if d := dstRepos[i]; d.Name != r.Name || d.Manifests != r.Manifests || d.Tags != r.Tags {
			t.Errorf("target repository %+v, want %+v", d, r)
		}
		wantSameRepository(t, src, dst, r.Name)
	}
	wantSameObjects(t, src, dst)
	wantSameBlobs(t, src, dst)
}

// wantSameRepository compares the links, manifests, tags and referrers of repo.
func wantSameRepository(t *testing.T, src, dst deployment, repo string) {
	t.Helper()
	ctx := t.Context()
	links := func(s metadata.Store) []metadata.Blob {
		return listAll(t, "links of "+repo, func(after string) ([]metadata.Blob, string, error) {
			page, err := s.ListRepositoryBlobs(ctx, repo, digest.Digest(after), 200)
			return page, lastOf(page, func(b metadata.Blob) string { return string(b.Digest) }), err
		})
	}
	if got, want := links(dst.meta), links(src.meta); !slices.Equal(got, want) {
		t.Errorf("%s: target links %d blobs, want %d the same as the source", repo, len(got), len(want))
	}

	manifests := func(s metadata.Store) []metadata.Manifest {
		return listAll(t, "manifests of "+repo, func(after string) ([]metadata.Manifest, string, error) {
			page, err := s.ListManifests(ctx, repo, digest.Digest(after), 200)
			return page, lastOf(page, func(m metadata.Manifest) string { return string(m.Digest) }), err
		})
	}
	got, want := manifests(dst.meta), manifests(src.meta)
	if len(got) != len(want) {
		t.Fatalf("%s: target has %d manifests, want %d", repo, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: target manifest %s differs from the source's %s", repo, got[i].Digest, want[i].Digest)
		}
	}

	tags := func(s metadata.Store) []metadata.Tag {
		return listAll(t, "tags of "+repo, func(after string) ([]metadata.Tag, string, error) {
			page, err := s.ListTagTargets(ctx, repo, after, 200)
			return page, lastOf(page, func(tag metadata.Tag) string { return tag.Name }), err
		})
	}
	if got, want := tags(dst.meta), tags(src.meta); !slices.Equal(got, want) {
		t.Errorf("%s: target has %d tags, want %d the same as the source", repo, len(got), len(want))
	}

	subjects, err := src.meta.ListManifests(ctx, repo, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range subjects {
		if m.Subject == "" {
			continue
		}
		want, err := src.meta.ListReferrers(ctx, repo, m.Subject, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := dst.meta.ListReferrers(ctx, repo, m.Subject, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: target referrers of %s = %+v, want %+v", repo, m.Subject, got, want)
		}
	}
}

// wantSameObjects compares the buckets and every object.
func wantSameObjects(t *testing.T, src, dst deployment) {
	t.Helper()
	ctx := t.Context()
	buckets, err := src.meta.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dstBuckets, err := dst.meta.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dstBuckets, buckets) {
		t.Fatalf("target buckets %+v, want %+v", dstBuckets, buckets)
	}
	for _, b := range buckets {
		objects := func(s metadata.Store) []metadata.Object {
			return listAll(t, "objects of "+b.Name, func(after string) ([]metadata.Object, string, error) {
				page, err := s.ListObjects(ctx, b.Name, "", after, 1000)
				return page, lastOf(page, func(o metadata.Object) string { return o.Key }), err
			})
		}
		got, want := objects(dst.meta), objects(src.meta)
		if len(got) != len(want) {
			t.Fatalf("bucket %s: target has %d objects, want %d", b.Name, len(got), len(want))
		}
		for i := range want {
			if !sameObject(got[i], want[i]) {
				t.Errorf("bucket %s: target object %+v, want %+v", b.Name, got[i], want[i])
			}
		}
	}
}

// sameObject compares two object records field by field.
func sameObject(a, b metadata.Object) bool {
	return a.Bucket == b.Bucket && a.Key == b.Key && a.Blob == b.Blob && a.Size == b.Size && a.ETag == b.ETag &&
		a.ContentType == b.ContentType && a.ChecksumType == b.ChecksumType && a.Modified.Equal(b.Modified) &&
		maps.Equal(a.Headers, b.Headers) && maps.Equal(a.UserMetadata, b.UserMetadata) &&
		maps.Equal(a.Checksums, b.Checksums) && slices.Equal(a.Parts, b.Parts)
}

// wantSameBlobs compares the blob rows, the reference counts of every
// tenth blob, and the stored content: every blob key with its size, and
// every twentieth blob read back through the digest-checking reader.
func wantSameBlobs(t *testing.T, src, dst deployment) {
	t.Helper()
	ctx := t.Context()
	rows := func(s metadata.Store) []metadata.Blob {
		return listAll(t, "blobs", func(after string) ([]metadata.Blob, string, error) {
			page, err := s.ListBlobs(ctx, digest.Digest(after), 1000)
			return page, lastOf(page, func(b metadata.Blob) string { return string(b.Digest) }), err
		})
	}
	want := rows(src.meta)
	if got := rows(dst.meta); !slices.Equal(got, want) {
		t.Fatalf("target has %d blob rows, want the %d of the source", len(got), len(want))
	}

	stored := map[string]int64{}
	err := dst.driver.Walk(ctx, "blobs", func(info storage.Info) error {
		stored[info.Key] = info.Size
		return nil
	})
	if err != nil {
		t.Fatalf("walk target blobs: %v", err)
	}
	if len(stored) != len(want) {
		t.Errorf("target storage holds %d blobs, want %d", len(stored), len(want))
	}
	blobs := blob.New(dst.driver, nil)
	for i, b := range want {
		if size, ok := stored[blob.Key(b.Digest)]; !ok || size != b.Size {
			t.Errorf("target storage: blob %s has %d bytes (stored %t), want %d", b.Digest, size, ok, b.Size)
		}
		if i%10 == 0 {
			srcRefs, err1 := src.meta.BlobReferences(ctx, b.Digest)
			dstRefs, err2 := dst.meta.BlobReferences(ctx, b.Digest)
			if err1 != nil || err2 != nil || srcRefs != dstRefs {
				t.Errorf("blob %s: target has %d references (%v), want %d (%v)", b.Digest, dstRefs, err2, srcRefs, err1)
			}
		}
		if i%20 == 0 {
			rc, err := blobs.Open(ctx, b.Digest, b.Size, 0, b.Size)
			if err == nil {
				_, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
			if err != nil {
				t.Errorf("read blob %s from the target: %v", b.Digest, err)
			}
		}
	}
}

// listAll pages through a listing until it returns an empty page.
func listAll[T any](t *testing.T, what string, page func(after string) ([]T, string, error)) []T {
	t.Helper()
	var all []T
	after := ""
	for {
		items, last, err := page(after)
		if err != nil {
			t.Fatalf("list %s: %v", what, err)
		}
		if len(items) == 0 {
			return all
		}
		all = append(all, items...)
		after = last
	}
}

// lastOf returns the cursor of the last item of a page.
func lastOf[T any](page []T, key func(T) string) string {
	if len(page) == 0 {
		return ""
	}
	return key(page[len(page)-1])
}
