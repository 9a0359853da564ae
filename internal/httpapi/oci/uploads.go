package oci

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/ranges"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/registry"
)

// startUpload handles POST /v2/<name>/blobs/uploads/: a cross-repository
// mount, a monolithic upload (?digest=) or a new session.
func (h *Handler) startUpload(w http.ResponseWriter, r *http.Request, rt route) {
	query := r.URL.Query()
	if mount := query.Get("mount"); mount != "" {
		if h.tryMount(w, r, rt.name, mount, query.Get("from")) {
			return
		}
	} else if value := query.Get("digest"); value != "" {
		h.monolithicUpload(w, r, rt.name, value)
		return
	}

	u, err := h.reg.StartUpload(r.Context(), rt.name)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeUploadStatus(w, rt.name, u, http.StatusAccepted)
}

// tryMount mounts a blob from another repository and reports whether it
// wrote a response. Without from, any repository holding the blob is the source
// (an anonymous mount). When no source holds the blob, or the client may not
// pull from the source, the caller falls back to a new upload session, as
// the specification requires. With access control on, only root mounts
// without from, because an anonymous mount could copy a blob out of a
// repository that the client may not read.
func (h *Handler) tryMount(w http.ResponseWriter, r *http.Request, name, mount, from string) bool {
	d, err := registry.ParseDigest(mount)
	if err != nil {
		writeError(w, r, err)
		return true
	}
	if from != "" && registry.ValidateName(from) != nil {
		return false
	}
	if from == "" && !h.mayMountAnywhere(r) {
		return false
	}
	if from != "" {
		allowed, err := h.mayPull(r, from)
		if err != nil {
			w.Header().Set("Retry-After", authRetryAfter)
			writeError(w, r, errAuthUnavailable)
			return true
		}
		if !allowed {
			return false
		}
	}
	b, err := h.reg.MountBlob(r.Context(), name, from, d)
	if errors.Is(err, registry.ErrBlobUnknown) {
		return false
	}
	if err != nil {
		writeError(w, r, err)
		return true
	}
	writeBlobCreated(w, name, b.Digest)
	return true
}

func (h *Handler) monolithicUpload(w http.ResponseWriter, r *http.Request, name, value string) {
	d, err := registry.ParseDigest(value)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := h.reg.PutBlob(r.Context(), name, d, r.Body, r.ContentLength); err != nil {
		writeError(w, r, err)
		return
	}
	writeBlobCreated(w, name, d)
}

func (h *Handler) uploadStatus(w http.ResponseWriter, r *http.Request, rt route) {
	u, err := h.reg.UploadStatus(r.Context(), rt.name, rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeUploadStatus(w, rt.name, u, http.StatusNoContent)
}

// patchUpload appends one chunk. With Content-Range the chunk must start
// at the session's offset and match Content-Length; without it the body
// is streamed and whatever arrives is kept.
func (h *Handler) patchUpload(w http.ResponseWriter, r *http.Request, rt route) {
	u, err := h.reg.Upload(r.Context(), rt.name, rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	offset, declared, err := chunkBounds(r, u.Offset)
	if err != nil {
		writeRangeError(w, r, rt.name, u, err)
		return
	}
	u, err = h.reg.AppendUpload(r.Context(), rt.name, u.ID, offset, r.Body, declared)
	if err != nil {
		writeRangeError(w, r, rt.name, u, err)
		return
	}
	writeUploadStatus(w, rt.name, u, http.StatusAccepted)
}

// completeUpload handles PUT ?digest=, with an optional last chunk.
func (h *Handler) completeUpload(w http.ResponseWriter, r *http.Request, rt route) {
	value := r.URL.Query().Get("digest")
	if value == "" {
		writeError(w, r, fmt.Errorf("%w: the digest query parameter is required", registry.ErrDigestInvalid))
		return
	}
	d, err := registry.ParseDigest(value)
	if err != nil {
		writeError(w, r, err)
		return
	}
	u, err := h.reg.Upload(r.Context(), rt.name, rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	offset, declared, err := chunkBounds(r, u.Offset)
	if err != nil {
		writeRangeError(w, r, rt.name, u, err)
		return
	}
	if offset != u.Offset {
		writeRangeError(w, r, rt.name, u, registry.ErrRangeInvalid)
		return
	}
	if _, err := h.reg.CompleteUpload(r.Context(), rt.name, u.ID, d, r.Body, declared); err != nil {
		writeError(w, r, err)
		return
	}
	writeBlobCreated(w, rt.name, d)
}

func (h *Handler) cancelUpload(w http.ResponseWriter, r *http.Request, rt route) {
	if err := h.reg.CancelUpload(r.Context(), rt.name, rt.target); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
}

// chunkBounds returns where a chunk starts and how many bytes it declares
// (-1 when unknown), from Content-Range and Content-Length.
func chunkBounds(r *http.Request, current int64) (offset, declared int64, err error) {
	header := r.Header.Get("Content-Range")
	if header == "" {
		return current, r.ContentLength, nil
	}
	start, length, err := ranges.ParseContentRange(header)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", registry.ErrRangeInvalid, err)
	}
	if r.ContentLength >= 0 && r.ContentLength != length {
		return 0, 0, fmt.Errorf("%w: Content-Range %q covers %d bytes, Content-Length is %d", registry.ErrSizeInvalid, header, length, r.ContentLength)
	}
	if start != current {
		return 0, 0, fmt.Errorf("%w: chunk starts at %d, the upload is at offset %d", registry.ErrRangeInvalid, start, current)
	}
	return start, length, nil
}

// writeRangeError writes a chunk error. A 416 carries the session's
// current Range so that the client can resume.
func writeRangeError(w http.ResponseWriter, r *http.Request, name string, u metadata.Upload, err error) {
	if errors.Is(err, registry.ErrRangeInvalid) && u.ID != "" {
		w.Header().Set("Location", uploadLocation(name, u.ID))
		w.Header().Set("Range", rangeHeader(u.Offset))
		w.Header().Set("Docker-Upload-UUID", u.ID)
	}
	writeError(w, r, err)
}

func writeUploadStatus(w http.ResponseWriter, name string, u metadata.Upload, status int) {
	header := w.Header()
	header.Set("Location", uploadLocation(name, u.ID))
	header.Set("Range", rangeHeader(u.Offset))
	header.Set("Docker-Upload-UUID", u.ID)
	header.Set("Content-Length", "0")
	w.WriteHeader(status)
}

func writeBlobCreated(w http.ResponseWriter, name string, d digest.Digest) {
	header := w.Header()
	header.Set("Location", "/v2/"+name+"/blobs/"+string(d))
	header.Set("Docker-Content-Digest", string(d))
	header.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

func uploadLocation(name, id string) string { return "/v2/" + name + "/blobs/uploads/" + id }

// rangeHeader formats the Range of received bytes as "0-<last byte>".
// Like other registries, an empty session reports "0-0".
func rangeHeader(offset int64) string {
	if offset == 0 {
		return "0-0"
	}
	return "0-" + strconv.FormatInt(offset-1, 10)
}
