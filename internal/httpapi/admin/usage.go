package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// usageSuffix ends the path of a repository's usage. Repository names
// contain slashes, so the name is everything between
// /api/v1/repositories/ and this suffix.
const usageSuffix = "/usage"

type repositoryUsageJSON struct {
	Repository    string `json:"repository"`
	Manifests     int64  `json:"manifests"`
	ManifestBytes int64  `json:"manifest_bytes"`
	Tags          int64  `json:"tags"`
	Blobs         int64  `json:"blobs"`
	BlobBytes     int64  `json:"blob_bytes"`
	TotalBytes    int64  `json:"total_bytes"`
}

type bucketUsageJSON struct {
	Bucket           string `json:"bucket"`
	Objects          int64  `json:"objects"`
	ObjectBytes      int64  `json:"object_bytes"`
	MultipartUploads int64  `json:"multipart_uploads"`
	MultipartParts   int64  `json:"multipart_parts"`
	MultipartBytes   int64  `json:"multipart_bytes"`
	TotalBytes       int64  `json:"total_bytes"`
}

// repositoryUsage serves GET /api/v1/repositories/{name}/usage.
func (h *Handler) repositoryUsage(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("path"), usageSuffix)
	if !ok {
		h.notFound(w, r)
		return
	}

	u, err := h.repos.Usage(r.Context(), name)
	switch {
	case errors.Is(err, registry.ErrNameInvalid):
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	case errors.Is(err, registry.ErrNameUnknown):
		WriteProblem(w, r, http.StatusNotFound, err.Error())
		return
	case err != nil:
		telemetry.Logger(r.Context()).Error("read repository usage failed", "repository", name, "error", err)
		WriteProblem(w, r, http.StatusInternalServerError, "reading the usage of repository "+name+" failed")
		return
	}
	writeJSON(w, repositoryUsageResponse(u))
}

// bucketUsage serves GET /api/v1/buckets/{bucket}/usage.
func (h *Handler) bucketUsage(w http.ResponseWriter, r *http.Request) {
	u, err := h.objects.Usage(r.Context(), r.PathValue("bucket"))
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	writeJSON(w, bucketUsageResponse(u))
}

func repositoryUsageResponse(u metadata.RepositoryUsage) repositoryUsageJSON {
	return repositoryUsageJSON{
		Repository:    u.Repository,
		Manifests:     u.Manifests,
		ManifestBytes: u.ManifestBytes,
		Tags:          u.Tags,
		Blobs:         u.Blobs,
		BlobBytes:     u.BlobBytes,
		TotalBytes:    u.TotalBytes(),
	}
}

func bucketUsageResponse(u metadata.BucketUsage) bucketUsageJSON {
	return bucketUsageJSON{
		Bucket:           u.Bucket,
		Objects:          u.Objects,
		ObjectBytes:      u.ObjectBytes,
		MultipartUploads: u.MultipartUploads,
		MultipartParts:   u.MultipartParts,
		MultipartBytes:   u.MultipartBytes,
		TotalBytes:       u.TotalBytes(),
	}
}
