package metadatatest

import (
	"errors"
	"reflect"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

func testTrustStoreLifecycle(e *env) {
	if _, err := e.store.GetTrustStore(e.ctx, "prod"); !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("GetTrustStore of a missing store: err = %v, want ErrNotFound", err)
	}
	first := metadata.TrustStore{Name: "prod", Document: []byte(`{"scope":{"repositories":"prod/*"}}`), Created: created, Updated: created}
	if err := e.store.PutTrustStore(e.ctx, first); err != nil {
		e.t.Fatalf("PutTrustStore: %v", err)
	}
	if err := e.store.PutTrustStore(e.ctx, metadata.TrustStore{Name: "dev", Document: []byte(`{}`), Created: created, Updated: created}); err != nil {
		e.t.Fatalf("PutTrustStore(dev): %v", err)
	}
	got, err := e.store.GetTrustStore(e.ctx, "prod")
	if err != nil {
		e.t.Fatalf("GetTrustStore: %v", err)
	}
	if !reflect.DeepEqual(got, first) {
		e.t.Errorf("GetTrustStore = %+v, want %+v", got, first)
	}

	later := created.Add(time.Hour)
	replacement := metadata.TrustStore{Name: "prod", Document: []byte(`{"scope":{"bucket":"b"}}`), Created: later, Updated: later}
	if err := e.store.PutTrustStore(e.ctx, replacement); err != nil {
		e.t.Fatalf("PutTrustStore replacing: %v", err)
	}
	got, err = e.store.GetTrustStore(e.ctx, "prod")
	if err != nil {
		e.t.Fatalf("GetTrustStore after replace: %v", err)
	}
	want := metadata.TrustStore{Name: "prod", Document: replacement.Document, Created: created, Updated: later}
	if !reflect.DeepEqual(got, want) {
		e.t.Errorf("GetTrustStore after replace = %+v, want %+v (Created kept)", got, want)
	}

	list, err := e.store.ListTrustStores(e.ctx)
	if err != nil {
		e.t.Fatalf("ListTrustStores: %v", err)
	}
	if len(list) != 2 || list[0].Name != "dev" || list[1].Name != "prod" {
		e.t.Errorf("ListTrustStores = %+v, want dev then prod", list)
	}

	if err := e.store.DeleteTrustStore(e.ctx, "prod"); err != nil {
		e.t.Fatalf("DeleteTrustStore: %v", err)
	}
	if err := e.store.DeleteTrustStore(e.ctx, "prod"); !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("DeleteTrustStore twice: err = %v, want ErrNotFound", err)
	}
	list, err = e.store.ListTrustStores(e.ctx)
	if err != nil || len(list) != 1 {
		e.t.Errorf("ListTrustStores after delete = %+v, %v; want one store", list, err)
	}
}

func testFindArtifacts(e *env) {
	subject := image("team/app", "subject")
	e.put(subject, "v1")
	e.put(image("other/app", "another image"))
	copied := image("mirror/app", "subject")
	e.put(copied)

	locations, err := e.store.FindManifests(e.ctx, subject.Digest)
	if err != nil {
		e.t.Fatalf("FindManifests: %v", err)
	}
	wantLocations := []metadata.ManifestLocation{
		{Repository: "mirror/app", MediaType: imageMediaType, Size: int64(len(subject.Content))},
		{Repository: "team/app", MediaType: imageMediaType, Size: int64(len(subject.Content))},
	}
	if !reflect.DeepEqual(locations, wantLocations) {
		e.t.Errorf("FindManifests = %+v, want %+v", locations, wantLocations)
	}

	signature := referrer("team/app", "signature", subject.Digest, "application/vnd.example.signature", map[string]string{"k": "v"})
	early := referrer("signatures/app", "early", subject.Digest, "application/vnd.example.sbom", nil)
	e.put(signature)
	e.put(early)
	e.put(referrer("team/app", "unrelated", digest.SHA256.FromBytes([]byte("other")), "application/vnd.example.sbom", nil))
	referrers, err := e.store.FindReferrers(e.ctx, subject.Digest)
	if err != nil {
		e.t.Fatalf("FindReferrers: %v", err)
	}
	wantReferrers := []metadata.RepositoryReferrer{
		{Repository: "signatures/app", Referrer: metadata.Referrer{MediaType: imageMediaType, Digest: early.Digest, Size: int64(len(early.Content)), ArtifactType: early.ArtifactType}},
		{Repository: "team/app", Referrer: metadata.Referrer{MediaType: imageMediaType, Digest: signature.Digest, Size: int64(len(signature.Content)), ArtifactType: signature.ArtifactType, Annotations: map[string]string{"k": "v"}}},
	}
	if !reflect.DeepEqual(referrers, wantReferrers) {
		e.t.Errorf("FindReferrers = %+v, want %+v", referrers, wantReferrers)
	}

	legacy := "sha256-" + subject.Digest.Encoded() + ".sig"
	e.put(image("team/app", "legacy signature"), legacy)
	e.put(image("z/app", "legacy attestation"), "sha256-"+subject.Digest.Encoded()+".att", "v2")
	tags, err := e.store.FindTags(e.ctx, []string{legacy, "sha256-" + subject.Digest.Encoded() + ".att", "missing"})
	if err != nil {
		e.t.Fatalf("FindTags: %v", err)
	}
	if len(tags) != 2 || tags[0].Repository != "team/app" || tags[0].Tag != legacy || tags[0].Digest != image("team/app", "legacy signature").Digest ||
		tags[1].Repository != "z/app" {
		e.t.Errorf("FindTags = %+v", tags)
	}
	if tags, err := e.store.FindTags(e.ctx, nil); err != nil || len(tags) != 0 {
		e.t.Errorf("FindTags(nil) = %+v, %v; want none", tags, err)
	}

	e.createBucket("files")
	e.createBucket("archive")
	for _, o := range []*metadata.Object{newObject("files", "b.txt", "same"), newObject("files", "a.txt", "same"), newObject("archive", "c.txt", "same"), newObject("files", "d.txt", "different")} {
		e.putObject(o)
	}
	objects, err := e.store.FindObjects(e.ctx, digest.SHA256.FromBytes([]byte("same")), 2)
	if err != nil {
		e.t.Fatalf("FindObjects: %v", err)
	}
	wantObjects := []metadata.ObjectLocation{{Bucket: "archive", Key: "c.txt"}, {Bucket: "files", Key: "a.txt"}}
	if !reflect.DeepEqual(objects, wantObjects) {
		e.t.Errorf("FindObjects = %+v, want %+v", objects, wantObjects)
	}
	if objects, err := e.store.FindObjects(e.ctx, subject.Digest, 0); err != nil || len(objects) != 0 {
		e.t.Errorf("FindObjects of a manifest digest = %+v, %v; want none", objects, err)
	}
}
