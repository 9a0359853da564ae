package s3

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer/internal/authz"
)

// putBucketPolicy handles PUT ?policy. The document is small (at most
// authz.MaxBucketPolicySize bytes), so it is read whole and validated
// before anything is stored.
func (h *Handler) putBucketPolicy(w http.ResponseWriter, r *http.Request, req *request) error {
	document, err := io.ReadAll(io.LimitReader(req.auth.Body, authz.MaxBucketPolicySize+1))
	if err != nil {
		return err
	}
	if len(document) > authz.MaxBucketPolicySize {
		return newError("MalformedPolicy", http.StatusBadRequest, "Policies must be no more than "+strconv.Itoa(authz.MaxBucketPolicySize)+" bytes")
	}
	if err := verifyBodyDigests(r, req.auth, document); err != nil {
		return err
	}
	if err := h.store.PutBucketPolicy(r.Context(), req.bucket, document); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getBucketPolicy handles GET ?policy: the document as it was stored.
func (h *Handler) getBucketPolicy(w http.ResponseWriter, r *http.Request, req *request) error {
	document, err := h.store.BucketPolicy(r.Context(), req.bucket)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(document)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(document)
	return err
}

// deleteBucketPolicy handles DELETE ?policy.
func (h *Handler) deleteBucketPolicy(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := h.store.DeleteBucketPolicy(r.Context(), req.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isSTSRequest reports whether r is an STS API call: a form POST to the
// service root (how the AWS SDKs send STS calls), or a GET of the root
// with an Action parameter. S3 has no operation of either shape: S3's
// browser uploads POST multipart/form-data to a bucket.
func isSTSRequest(r *http.Request, virtualBucket string) bool {
	if virtualBucket != "" || r.URL.Path != "/" {
		return false
	}
	switch r.Method {
	case http.MethodPost:
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return strings.EqualFold(mediaType, "application/x-www-form-urlencoded")
	case http.MethodGet:
		return r.URL.Query().Has("Action")
	}
	return false
}
