package oci_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// referrersIndex is the body of a referrers response.
type referrersIndex struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// getReferrers fetches the referrers of subject and checks the response
// headers that every referrers response has.
func (s *testServer) getReferrers(t *testing.T, repo, subject, query string) (referrersIndex, response) {
	t.Helper()
	resp := s.do(t, http.MethodGet, "/v2/"+repo+"/referrers/"+subject+query, nil, nil)
	label := "referrers of " + subject + query
	checkStatus(t, label, resp, http.StatusOK)
	checkHeader(t, label, resp.header, "Content-Type", mediaTypeOCIIndex)
	var index referrersIndex
	if err := json.Unmarshal(resp.body, &index); err != nil {
		t.Fatalf("%s: body %q: %v", label, clip(resp.body), err)
	}
	if index.SchemaVersion != 2 || index.MediaType != mediaTypeOCIIndex {
		t.Errorf("%s: schemaVersion %d, mediaType %q, want 2 and %q", label, index.SchemaVersion, index.MediaType, mediaTypeOCIIndex)
	}
	return index, resp
}

// checkReferrers compares referrer descriptors, ignoring their order.
func checkReferrers(t *testing.T, label string, got, want []descriptor) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	byDigest := func(a, b descriptor) int { return strings.Compare(a.Digest, b.Digest) }
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, byDigest)
	slices.SortFunc(want, byDigest)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: referrers = %+v, want %+v", label, got, want)
	}
}

func TestReferrersEmpty(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	img := s.pushImage(t, "ref/empty", "subject")
	s.pushManifest(t, "ref/empty", "v1", mediaTypeOCIManifest, img.manifest)
	want := []byte(`{"schemaVersion":2,"mediaType":"` + mediaTypeOCIIndex + `","manifests":[]}`)
	s.run(t, []exchange{
		{name: "no referrers", method: http.MethodGet, path: "/v2/ref/empty/referrers/" + img.digest, status: http.StatusOK,
			wantBody: want, want: map[string]string{"Content-Type": mediaTypeOCIIndex, "OCI-Filters-Applied": ""}},
		{name: "unknown subject", method: http.MethodGet, path: "/v2/ref/empty/referrers/" + sha256Digest([]byte("none")),
			status: http.StatusOK, wantBody: want},
		{name: "filter without matches", method: http.MethodGet,
			path:   "/v2/ref/empty/referrers/" + img.digest + "?artifactType=application/vnd.example",
			status: http.StatusOK, wantBody: want, want: map[string]string{"OCI-Filters-Applied": "artifactType"}},
		{name: "tag instead of digest", method: http.MethodGet, path: "/v2/ref/empty/referrers/v1",
			status: http.StatusBadRequest, code: "DIGEST_INVALID"},
		{name: "malformed digest", method: http.MethodGet, path: "/v2/ref/empty/referrers/sha256:abc",
			status: http.StatusBadRequest, code: "DIGEST_INVALID"},
	})
}

func TestReferrersList(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	repo := "ref/app"
	subject := s.pushImage(t, repo, "subject")
	s.pushManifest(t, repo, "v1", mediaTypeOCIManifest, subject.manifest)
	s.pushBlob(t, repo, []byte("{}"))
	signature := []byte("signature bytes")
	s.pushBlob(t, repo, signature)
	sbomConfig := []byte(`{"sbom":true}`)
	s.pushBlob(t, repo, sbomConfig)
	subjectDescriptor := describe(mediaTypeOCIManifest, subject.manifest)

	// An artifact with artifactType, the empty config and annotations.
	sig := marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": mediaTypeOCIManifest, "artifactType": "application/vnd.example.signature",
		"config":      descriptor{MediaType: mediaTypeEmpty, Digest: emptyDigest, Size: 2},
		"layers":      []descriptor{describe("application/vnd.example.signature.v1", signature)},
		"subject":     subjectDescriptor,
		"annotations": map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z", "org.example.signer": "ci"},
	})
	// An image manifest without artifactType: its config media type stands in.
	sbom := marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": mediaTypeOCIManifest,
		"config":  describe("application/vnd.example.sbom.config", sbomConfig),
		"layers":  []descriptor{},
		"subject": subjectDescriptor,
	})
	// An index that refers to the subject and has no artifactType.
	sigDescriptor := describe(mediaTypeOCIManifest, sig)
	bundle := marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": mediaTypeOCIIndex,
		"manifests": []descriptor{sigDescriptor},
		"subject":   subjectDescriptor,
	})

	s.run(t, []exchange{
		{name: "push signature", method: http.MethodPut, path: "/v2/ref/app/manifests/" + sha256Digest(sig), body: sig,
			header: map[string]string{"Content-Type": mediaTypeOCIManifest}, status: http.StatusCreated,
			want: map[string]string{"OCI-Subject": subject.digest}},
		putManifest("push sbom", "/v2/ref/app/manifests/sbom", mediaTypeOCIManifest, sbom, http.StatusCreated, ""),
		putManifest("push bundle", "/v2/ref/app/manifests/bundle", mediaTypeOCIIndex, bundle, http.StatusCreated, ""),
	})

	sigEntry := descriptor{MediaType: mediaTypeOCIManifest, Digest: sha256Digest(sig), Size: int64(len(sig)),
		ArtifactType: "application/vnd.example.signature",
		Annotations:  map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z", "org.example.signer": "ci"}}
	sbomEntry := descriptor{MediaType: mediaTypeOCIManifest, Digest: sha256Digest(sbom), Size: int64(len(sbom)),
		ArtifactType: "application/vnd.example.sbom.config"}
	bundleEntry := descriptor{MediaType: mediaTypeOCIIndex, Digest: sha256Digest(bundle), Size: int64(len(bundle))}

	index, resp := s.getReferrers(t, repo, subject.digest, "")
	checkReferrers(t, "all referrers", index.Manifests, []descriptor{sigEntry, sbomEntry, bundleEntry})
	checkHeader(t, "all referrers", resp.header, "OCI-Filters-Applied", "")

	index, resp = s.getReferrers(t, repo, subject.digest, "?artifactType=application/vnd.example.signature")
	checkReferrers(t, "signatures", index.Manifests, []descriptor{sigEntry})
	checkHeader(t, "signatures", resp.header, "OCI-Filters-Applied", "artifactType")

	index, _ = s.getReferrers(t, repo, subject.digest, "?artifactType=application/vnd.example.sbom.config")
	checkReferrers(t, "sboms by config media type", index.Manifests, []descriptor{sbomEntry})

	index, _ = s.getReferrers(t, repo, sha256Digest(sig), "")
	checkReferrers(t, "referrers of the signature", index.Manifests, nil)

	index, _ = s.getReferrers(t, "ref/other", subject.digest, "")
	checkReferrers(t, "other repository", index.Manifests, nil)

	s.checkStatusOf(t, http.MethodDelete, "/v2/ref/app/manifests/"+sha256Digest(sbom), http.StatusAccepted)
	index, _ = s.getReferrers(t, repo, subject.digest, "")
	checkReferrers(t, "after deleting the sbom", index.Manifests, []descriptor{sigEntry, bundleEntry})
}

func TestReferrerBeforeSubject(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	repo := "ref/early"
	s.pushBlob(t, repo, []byte("{}"))
	later := s.pushImage(t, repo, "pushed later")
	referrer := marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": mediaTypeOCIManifest, "artifactType": "application/vnd.example.note",
		"config":  descriptor{MediaType: mediaTypeEmpty, Digest: emptyDigest, Size: 2},
		"layers":  []descriptor{},
		"subject": describe(mediaTypeOCIManifest, later.manifest),
	})
	s.run(t, []exchange{
		{name: "push referrer first", method: http.MethodPut, path: "/v2/ref/early/manifests/note", body: referrer,
			header: map[string]string{"Content-Type": mediaTypeOCIManifest}, status: http.StatusCreated,
			want: map[string]string{"OCI-Subject": later.digest}},
		{name: "subject still unknown", method: http.MethodHead, path: "/v2/ref/early/manifests/" + later.digest,
			status: http.StatusNotFound},
	})
	entry := descriptor{MediaType: mediaTypeOCIManifest, Digest: sha256Digest(referrer), Size: int64(len(referrer)),
		ArtifactType: "application/vnd.example.note"}
	index, _ := s.getReferrers(t, repo, later.digest, "")
	checkReferrers(t, "before the subject", index.Manifests, []descriptor{entry})

	s.pushManifest(t, repo, "v1", mediaTypeOCIManifest, later.manifest)
	index, _ = s.getReferrers(t, repo, later.digest, "")
	checkReferrers(t, "after the subject", index.Manifests, []descriptor{entry})
}
