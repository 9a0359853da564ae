// Package metadatatest is the contract test suite that every metadata.Store
// backend must pass. A backend's test calls Run with a function that opens an
// empty store.
package metadatatest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Media types of the manifests the suite builds.
const (
	imageMediaType = "application/vnd.oci.image.manifest.v1+json"
	indexMediaType = "application/vnd.oci.image.index.v1+json"
)

// Run runs the contract suite as subtests of t. open must return a new,
// empty store for each call and close it when the test ends, for example
// with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) metadata.Store) {
	tests := []struct {
		name string
		run  func(e *env)
	}{
		{"LinkBlobIsPerRepository", testLinkBlobIsPerRepository},
		{"LinkBlobCreatesRepository", testLinkBlobCreatesRepository},
		{"StatBlobIsGlobal", testStatBlobIsGlobal},
		{"BlobReferencesCountManifests", testBlobReferencesCountManifests},
		{"PutManifestTwiceCountsOnce", testPutManifestTwiceCountsOnce},
		{"RepeatedBlobCountsOnce", testRepeatedBlobCountsOnce},
		{"SameManifestInTwoRepositories", testSameManifestInTwoRepositories},
		{"UnlinkBlobKeepsReferences", testUnlinkBlobKeepsReferences},
		{"PutManifestRejectsMissingBlob", testPutManifestRejectsMissingBlob},
		{"PutManifestRejectsBlobOfOtherRepository", testPutManifestRejectsBlobOfOtherRepository},
		{"PutManifestRejectsMissingChild", testPutManifestRejectsMissingChild},
		{"PutIndexWithChildren", testPutIndexWithChildren},
		{"GetManifestMissing", testGetManifestMissing},
		{"GetTaggedManifestExactBytes", testGetTaggedManifestExactBytes},
		{"TagMoves", testTagMoves},
		{"DeleteTagKeepsManifest", testDeleteTagKeepsManifest},
		{"DeleteManifestRemovesTags", testDeleteManifestRemovesTags},
		{"DigestShapedTagIsOrdinary", testDigestShapedTagIsOrdinary},
		{"ConcurrentPutManifest", testConcurrentPutManifest},
		{"ListTagsByteOrder", testListTagsByteOrder},
		{"ListTagsPagination", testListTagsPagination},
		{"ListTagsMissingRepository", testListTagsMissingRepository},
		{"ListRepositoriesPagination", testListRepositoriesPagination},
		{"ListReferrers", testListReferrers},
		{"ReferrerBeforeSubject", testReferrerBeforeSubject},
		{"UploadLifecycle", testUploadLifecycle},
		{"AdvanceUploadConflict", testAdvanceUploadConflict},
		{"CreateUploadDuplicate", testCreateUploadDuplicate},
		{"BucketLifecycle", testBucketLifecycle},
		{"ListBucketsByteOrder", testListBucketsByteOrder},
		{"DeleteBucket", testDeleteBucket},
		{"PutObjectRoundTrip", testPutObjectRoundTrip},
		{"EmptyFieldsReadAsNil", testEmptyFieldsReadAsNil},
		{"PutObjectReplaces", testPutObjectReplaces},
		{"PutObjectMissingBucket", testPutObjectMissingBucket},
		{"PutObjectIfNoneMatch", testPutObjectIfNoneMatch},
		{"PutObjectIfMatch", testPutObjectIfMatch},
		{"ObjectReferences", testObjectReferences},
		{"ManifestAndObjectShareBlob", testManifestAndObjectShareBlob},
		{"DeleteObject", testDeleteObject},
		{"GetObjectMissing", testGetObjectMissing},
		{"ListObjects", testListObjects},
		{"ListObjectsPagination", testListObjectsPagination},
		{"ConcurrentPutObject", testConcurrentPutObject},
		{"MultipartUploadLifecycle", testMultipartUploadLifecycle},
		{"PutAndListParts", testPutAndListParts},
		{"ListMultipartUploads", testListMultipartUploads},
		{"ListMultipartUploadsBefore", testListMultipartUploadsBefore},
		{"CompleteMultipartUpload", testCompleteMultipartUpload},
		{"CompleteMultipartUploadRejected", testCompleteMultipartUploadRejected},
		{"AbortMultipartUpload", testAbortMultipartUpload},
		{"ZeroSinceFollowsReferences", testZeroSinceFollowsReferences},
		{"LinkBlobRestartsGracePeriod", testLinkBlobRestartsGracePeriod},
		{"LookupBlobRestartsGracePeriod", testLookupBlobRestartsGracePeriod},
		{"UnlinkUnreferencedBlob", testUnlinkUnreferencedBlob},
		{"DeleteUnreferencedBlob", testDeleteUnreferencedBlob},
		{"ListAndFindBlobs", testListAndFindBlobs},
		{"BlobLocationKeepsFirst", testBlobLocationKeepsFirst},
		{"BlobLocationRepairsQuarantine", testBlobLocationRepairsQuarantine},
		{"GetObjectContentUnavailable", testGetObjectContentUnavailable},
		{"ListUploadsBefore", testListUploadsBefore},
		{"FindStagedKeys", testFindStagedKeys},
		{"ListUntaggedManifests", testListUntaggedManifests},
		{"DeleteUntaggedManifest", testDeleteUntaggedManifest},
		{"OrphanReferrers", testOrphanReferrers},
		{"RepositoryUsage", testRepositoryUsage},
		{"RepositoryUsageAfterCollection", testRepositoryUsageAfterCollection},
		{"BucketUsage", testBucketUsage},
		{"BucketUsageMultipart", testBucketUsageMultipart},
		{"BucketUsageDeletedBucket", testBucketUsageDeletedBucket},
		{"ConcurrentUsage", testConcurrentUsage},
		{"OutboxManifestChanges", testOutboxManifestChanges},
		{"OutboxObjectChanges", testOutboxObjectChanges},
		{"OutboxRollsBackWithChange", testOutboxRollsBackWithChange},
		{"OutboxCollectionDeletes", testOutboxCollectionDeletes},
		{"AppendEventsRoundTrip", testAppendEventsRoundTrip},
		{"SubscriptionLifecycle", testSubscriptionLifecycle},
		{"ReplaceConfigSubscriptions", testReplaceConfigSubscriptions},
		{"DeliveriesInOrderPerSubject", testDeliveriesInOrderPerSubject},
		{"DeliveryLeaseExpires", testDeliveryLeaseExpires},
		{"DeliveryLogAndRedeliver", testDeliveryLogAndRedeliver},
		{"PruneEvents", testPruneEvents},
		{"ConcurrentClaims", testConcurrentClaims},
		{"ListRepositoryBlobs", testListRepositoryBlobs},
		{"ListManifests", testListManifests},
		{"ListTagTargets", testListTagTargets},
		{"TrustStoreLifecycle", testTrustStoreLifecycle},
		{"FindArtifacts", testFindArtifacts},
		{"CredentialRoundTrip", testCredentialRoundTrip},
		{"ListCredentials", testListCredentials},
		{"RevokeCredential", testRevokeCredential},
		{"RobotNameUniqueWhileActive", testRobotNameUniqueWhileActive},
		{"TouchCredential", testTouchCredential},
		{"PolicyLifecycle", testPolicyLifecycle},
		{"AccessKeyLifecycle", testAccessKeyLifecycle},
		{"AccessKeyWithoutRestriction", testAccessKeyWithoutRestriction},
		{"ListAccessKeys", testListAccessKeys},
		{"BucketPolicyLifecycle", testBucketPolicyLifecycle},
		{"BucketPolicyGoesWithBucket", testBucketPolicyGoesWithBucket},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(&env{t: t, ctx: t.Context(), store: open(t)})
		})
	}
}

// env is the state of one subtest: a fresh store and the test's context.
type env struct {
	t     *testing.T
	ctx   context.Context
	store metadata.Store
}

// created is the creation time the suite gives manifests and uploads. It has
// a nanosecond part, so a backend that rounds times fails the round trip.
var created = time.Date(2026, 12, 1, 10, 30, 0, 123456789, time.UTC)

// linkBlob links a blob with the given content to repo and returns it.
func (e *env) linkBlob(repo, content string) metadata.Blob {
	e.t.Helper()
	b := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte(content)), Size: int64(len(content))}
	if err := e.store.LinkBlob(e.ctx, repo, b); err != nil {
		e.t.Fatalf("LinkBlob(%s, %s): %v", repo, b.Digest, err)
	}
	return b
}

// image builds an image manifest in repo that lists blobs as its config and
// layers. name goes into the content, so different names give different
// digests.
func image(repo, name string, blobs ...digest.Digest) *metadata.Manifest {
	content := mustJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     imageMediaType,
		"name":          name,
		"blobs":         blobs,
	})
	return &metadata.Manifest{
		Repository:   repo,
		Digest:       digest.SHA256.FromBytes(content),
		MediaType:    imageMediaType,
		Content:      content,
		ArtifactType: "application/vnd.oci.image.config.v1+json",
		Blobs:        blobs,
		Created:      created,
	}
}

// index builds an image index in repo that lists children.
func index(repo, name string, children ...digest.Digest) *metadata.Manifest {
	content := mustJSON(map[string]any{
		"schemaVersion": 2,
		"mediaType":     indexMediaType,
		"name":          name,
		"manifests":     children,
	})
	return &metadata.Manifest{
		Repository: repo,
		Digest:     digest.SHA256.FromBytes(content),
		MediaType:  indexMediaType,
		Content:    content,
		Children:   children,
		Created:    created,
	}
}

func mustJSON(v any) []byte {
	p, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return p
}

// put stores m with tags and fails the test on error.
func (e *env) put(m *metadata.Manifest, tags ...string) {
	e.t.Helper()
	if err := e.store.PutManifest(e.ctx, m, tags...); err != nil {
		e.t.Fatalf("PutManifest(%s, %s, %q): %v", m.Repository, m.Digest, tags, err)
	}
}

// references returns the reference count of d and fails the test on error.
func (e *env) references(d digest.Digest) int64 {
	e.t.Helper()
	n, err := e.store.BlobReferences(e.ctx, d)
	if err != nil {
		e.t.Fatalf("BlobReferences(%s): %v", d, err)
	}
	return n
}

// wantReferences checks the reference count of d.
func (e *env) wantReferences(d digest.Digest, want int64) {
	e.t.Helper()
	if got := e.references(d); got != want {
		e.t.Errorf("BlobReferences(%s) = %d, want %d", d, got, want)
	}
}

// tags returns every tag of repo and fails the test on error.
func (e *env) tags(repo string) []string {
	e.t.Helper()
	tags, err := e.store.ListTags(e.ctx, repo, "", 0)
	if err != nil {
		e.t.Fatalf("ListTags(%s): %v", repo, err)
	}
	return tags
}

// taggedDigest returns the digest tag points at and fails the test on error.
func (e *env) taggedDigest(repo, tag string) digest.Digest {
	e.t.Helper()
	m, err := e.store.GetTaggedManifest(e.ctx, repo, tag)
	if err != nil {
		e.t.Fatalf("GetTaggedManifest(%s, %s): %v", repo, tag, err)
	}
	return m.Digest
}

// wantNotFound checks that err wraps metadata.ErrNotFound.
func (e *env) wantNotFound(call string, err error) {
	e.t.Helper()
	if !errors.Is(err, metadata.ErrNotFound) {
		e.t.Errorf("%s: error = %v, want one wrapping metadata.ErrNotFound", call, err)
	}
}

// wantConflict checks that err wraps metadata.ErrConflict.
func (e *env) wantConflict(call string, err error) {
	e.t.Helper()
	if !errors.Is(err, metadata.ErrConflict) {
		e.t.Errorf("%s: error = %v, want one wrapping metadata.ErrConflict", call, err)
	}
}

// wantMissingReference checks that err is a *metadata.MissingReferenceError
// for d of the given kind.
func (e *env) wantMissingReference(err error, d digest.Digest, manifest bool) {
	e.t.Helper()
	var missing *metadata.MissingReferenceError
	if !errors.As(err, &missing) {
		e.t.Fatalf("PutManifest error = %v, want a *metadata.MissingReferenceError", err)
	}
	if missing.Digest != d {
		e.t.Errorf("MissingReferenceError.Digest = %s, want %s", missing.Digest, d)
	}
	if missing.Manifest != manifest {
		e.t.Errorf("MissingReferenceError.Manifest = %t, want %t", missing.Manifest, manifest)
	}
}

// wantNoRepository checks that repo was not created.
func (e *env) wantNoRepository(repo string) {
	e.t.Helper()
	_, err := e.store.ListTags(e.ctx, repo, "", 0)
	e.wantNotFound("ListTags("+repo+")", err)

	repos, err := e.store.ListRepositories(e.ctx, "", 0)
	if err != nil {
		e.t.Fatalf("ListRepositories: %v", err)
	}
	for _, r := range repos {
		if r.Name == repo {
			e.t.Errorf("ListRepositories lists %s, want it absent", repo)
		}
	}
}
