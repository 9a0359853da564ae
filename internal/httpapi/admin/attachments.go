package admin

import (
	"context"
	"errors"
	"github.com/cofferhq/coffer/internal/authz"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cofferhq/coffer/internal/attachments"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
)

// Attachments attaches signatures, SBOMs and attestations to objects.
type Attachments interface {
	Attach(ctx context.Context, in attachments.Input) (*attachments.Attachment, error)
	List(ctx context.Context, bucket, key string) ([]attachments.Attachment, error)
	Get(ctx context.Context, bucket, key string, d digest.Digest) (*attachments.Attachment, error)
	OpenDocument(ctx context.Context, a *attachments.Attachment) (io.ReadCloser, error)
	Delete(ctx context.Context, bucket, key string, d digest.Digest) error
	ObjectStatus(ctx context.Context, status attachments.StatusReader, bucket, key string) (*attachments.ObjectStatus, error)
}

// Headers of GET .../attachments/{digest}, which returns the document.
const (
	headerArtifactType = "Coffer-Artifact-Type"
	headerSubject      = "Coffer-Subject-Digest"
	headerAttachment   = "Coffer-Attachment-Digest"
)

// EnableAttachments serves the attachments and the trust status of
// objects. The key is one path segment there, with "/" escaped as %2F,
// because the routes continue after it. EnableTrust must run first.
func (h *Handler) EnableAttachments(a Attachments) {
	h.attachments = a
	const base = "/api/v1/buckets/{bucket}/objects/{key}"
	// Attaching to an object writes it; reading or listing its
	// attachments and trust status reads it.
	h.handle("POST "+base+"/attachments", onObject(authz.ActionS3PutObject), h.attach)
	h.handle("GET "+base+"/attachments", onObject(authz.ActionS3GetObject), h.listAttachments)
	h.handle("GET "+base+"/attachments/{digest}", onObject(authz.ActionS3GetObject), h.getAttachment)
	h.handle("DELETE "+base+"/attachments/{digest}", onObject(authz.ActionS3DeleteObject), h.deleteAttachment)
	h.handle("GET "+base+"/trust", onObject(authz.ActionS3GetObject), h.objectTrust)
}

// writeAttachmentError writes the problem details of an attachment error,
// or of an object error.
func writeAttachmentError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, attachments.ErrNotFound):
		WriteProblem(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, attachments.ErrInvalid):
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, attachments.ErrTooLarge):
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, attachments.ErrTooMany):
		WriteProblem(w, r, http.StatusConflict, err.Error())
	default:
		writeObjectError(w, r, err)
	}
}

func attachmentLocation(bucket, key string, d digest.Digest) string {
	return "/api/v1/buckets/" + url.PathEscape(bucket) + "/objects/" + url.PathEscape(key) + "/attachments/" + string(d)
}

func (h *Handler) attach(w http.ResponseWriter, r *http.Request) {
	bucket, key := r.PathValue("bucket"), r.PathValue("key")
	a, err := h.attachments.Attach(r.Context(), attachments.Input{
		Bucket: bucket, Key: key,
		MediaType:    r.Header.Get("Content-Type"),
		ArtifactType: r.URL.Query().Get("artifact_type"),
		Body:         r.Body,
	})
	if err != nil {
		writeAttachmentError(w, r, err)
		return
	}
	w.Header().Set("Location", attachmentLocation(bucket, key, a.Digest))
	writeJSONStatus(w, http.StatusCreated, a)
}

func (h *Handler) listAttachments(w http.ResponseWriter, r *http.Request) {
	list, err := h.attachments.List(r.Context(), r.PathValue("bucket"), r.PathValue("key"))
	if err != nil {
		writeAttachmentError(w, r, err)
		return
	}
	writeJSON(w, Page[attachments.Attachment]{Items: list})
}

// attachmentDigest parses the {digest} path value, or writes a 400.
func attachmentDigest(w http.ResponseWriter, r *http.Request) (digest.Digest, bool) {
	d, err := digest.Parse(r.PathValue("digest"))
	if err != nil || d.Algorithm() != digest.Canonical {
		WriteProblem(w, r, http.StatusBadRequest, "invalid attachment digest "+r.PathValue("digest")+": expected sha256:<64 hex digits>")
		return "", false
	}
	return d, true
}

func (h *Handler) getAttachment(w http.ResponseWriter, r *http.Request) {
	d, ok := attachmentDigest(w, r)
	if !ok {
		return
	}
	a, err := h.attachments.Get(r.Context(), r.PathValue("bucket"), r.PathValue("key"), d)
	if err != nil {
		writeAttachmentError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", a.MediaType)
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set(headerAttachment, string(a.Digest))
	w.Header().Set(headerArtifactType, a.ArtifactType)
	w.Header().Set(headerSubject, string(a.Subject))
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	rc, err := h.attachments.OpenDocument(r.Context(), a)
	if err != nil {
		w.Header().Del("Content-Length")
		writeAttachmentError(w, r, err)
		return
	}
	defer rc.Close()
	w.WriteHeader(http.StatusOK)
	stream.Copy(w, r, rc)
}

func (h *Handler) deleteAttachment(w http.ResponseWriter, r *http.Request) {
	d, ok := attachmentDigest(w, r)
	if !ok {
		return
	}
	if err := h.attachments.Delete(r.Context(), r.PathValue("bucket"), r.PathValue("key"), d); err != nil {
		writeAttachmentError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) objectTrust(w http.ResponseWriter, r *http.Request) {
	status, err := h.attachments.ObjectStatus(r.Context(), h.trustStatus, r.PathValue("bucket"), r.PathValue("key"))
	if err != nil {
		writeAttachmentError(w, r, err)
		return
	}
	writeJSON(w, status)
}
