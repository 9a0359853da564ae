package admin_test

import (
	"net/http"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

type repositoryUsage struct {
	Repository    string `json:"repository"`
	Manifests     int64  `json:"manifests"`
	ManifestBytes int64  `json:"manifest_bytes"`
	Tags          int64  `json:"tags"`
	Blobs         int64  `json:"blobs"`
	BlobBytes     int64  `json:"blob_bytes"`
	TotalBytes    int64  `json:"total_bytes"`
}

type bucketUsage struct {
	Bucket           string `json:"bucket"`
	Objects          int64  `json:"objects"`
	ObjectBytes      int64  `json:"object_bytes"`
	MultipartUploads int64  `json:"multipart_uploads"`
	MultipartParts   int64  `json:"multipart_parts"`
	MultipartBytes   int64  `json:"multipart_bytes"`
	TotalBytes       int64  `json:"total_bytes"`
}

func TestRepositoryUsageEndpoint(t *testing.T) {
	s := newAdminServer(t)
	ctx := t.Context()
	layer := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte("layer bytes")), Size: 11}
	if err := s.meta.LinkBlob(ctx, "team/app", layer); err != nil {
		t.Fatalf("LinkBlob: %v", err)
	}
	content := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	m := &metadata.Manifest{
		Repository: "team/app",
		Digest:     digest.SHA256.FromBytes(content),
		MediaType:  "application/vnd.oci.image.manifest.v1+json",
		Content:    content,
		Blobs:      []digest.Digest{layer.Digest},
	}
	if err := s.meta.PutManifest(ctx, m, "v1", "latest"); err != nil {
		t.Fatalf("PutManifest: %v", err)
	}

	var got repositoryUsage
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/repositories/team/app/usage", nil), &got)
	want := repositoryUsage{
		Repository:    "team/app",
		Manifests:     1,
		ManifestBytes: int64(len(content)),
		Tags:          2,
		Blobs:         1,
		BlobBytes:     11,
		TotalBytes:    11 + int64(len(content)),
	}
	if got != want {
		t.Errorf("usage =\n%+v\nwant\n%+v", got, want)
	}

	var escaped repositoryUsage
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/repositories/team%2Fapp/usage", nil), &escaped)
	if escaped != want {
		t.Errorf("usage with an escaped slash =\n%+v\nwant\n%+v", escaped, want)
	}
}

func TestRepositoryUsageErrors(t *testing.T) {
	s := newAdminServer(t)
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/api/v1/repositories/missing/app/usage", http.StatusNotFound},
		{"/api/v1/repositories/Upper/usage", http.StatusBadRequest},
		{"/api/v1/repositories/team/app", http.StatusNotFound},
		{"/api/v1/repositories/usage", http.StatusNotFound},
	} {
		t.Run(tc.path, func(t *testing.T) {
			expectProblem(t, s.do(t, http.MethodGet, tc.path, nil), tc.status, tc.path)
		})
	}
}

func TestBucketUsageEndpoint(t *testing.T) {
	s := newAdminServer(t)
	s.createBucket(t, "media")
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/media/objects/a.txt", []byte("0123456789"))
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/media/objects/b.txt", []byte("abc"))
	s.must(t, http.StatusCreated, http.MethodPut, "/api/v1/buckets/media/objects/a.txt", []byte("01234"))

	var got bucketUsage
	decodeJSON(t, s.must(t, http.StatusOK, http.MethodGet, "/api/v1/buckets/media/usage", nil), &got)
	want := bucketUsage{Bucket: "media", Objects: 2, ObjectBytes: 8, TotalBytes: 8}
	if got != want {
		t.Errorf("usage =\n%+v\nwant\n%+v", got, want)
	}

	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/missing/usage", nil), http.StatusNotFound, "/api/v1/buckets/missing/usage")
	expectProblem(t, s.do(t, http.MethodGet, "/api/v1/buckets/No_Such/usage", nil), http.StatusBadRequest, "/api/v1/buckets/No_Such/usage")
}
