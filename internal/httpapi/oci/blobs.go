package oci

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cofferhq/coffer/internal/httpapi/ranges"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/telemetry"
)

func (h *Handler) getBlob(w http.ResponseWriter, r *http.Request, rt route) {
	d, err := registry.ParseDigest(rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	b, err := h.reg.StatBlob(r.Context(), rt.name, d)
	if err != nil {
		writeError(w, r, err)
		return
	}

	header := w.Header()
	header.Set("Docker-Content-Digest", string(d))
	header.Set("ETag", `"`+string(d)+`"`)
	header.Set("Accept-Ranges", "bytes")
	header.Set("Content-Type", "application/octet-stream")
	if r.Method == http.MethodGet && r.Header.Get("Range") == "" && h.redirectBlob(w, r, b) {
		return
	}

	start, length, status := int64(0), b.Size, http.StatusOK
	if spec := r.Header.Get("Range"); spec != "" && r.Method == http.MethodGet {
		rng, err := ranges.Parse(spec, b.Size)
		if err != nil {
			header.Set("Content-Range", "bytes */"+strconv.FormatInt(b.Size, 10))
			writeError(w, r, errors.Join(registry.ErrRangeInvalid, err))
			return
		}
		start, length, status = rng.Start, rng.Length, http.StatusPartialContent
		header.Set("Content-Range", rng.ContentRange(b.Size))
	}
	header.Set("Content-Length", strconv.FormatInt(length, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}

	rc, err := h.reg.OpenBlob(r.Context(), b, start, length)
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer rc.Close()
	w.WriteHeader(status)
	stream.Copy(w, r, rc)
}

// redirectBlob responds to a GET of a whole blob with 307 and a presigned
// backend URL when storage redirects are on, and reports whether it did.
// A failure to presign is logged and the blob is served as usual.
func (h *Handler) redirectBlob(w http.ResponseWriter, r *http.Request, b metadata.Blob) bool {
	url, err := h.reg.BlobRedirectURL(r.Context(), b)
	if err != nil {
		telemetry.Logger(r.Context()).Warn("blob redirect failed; serving the blob", "digest", b.Digest, "error", err)
		return false
	}
	if url == "" {
		return false
	}
	http.Redirect(w, r, url, http.StatusTemporaryRedirect)
	return true
}

func (h *Handler) deleteBlob(w http.ResponseWriter, r *http.Request, rt route) {
	d, err := registry.ParseDigest(rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := h.reg.DeleteBlob(r.Context(), rt.name, d); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}
