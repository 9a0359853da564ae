package s3

import (
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// wholeObjectRequest reports whether a GetObject requests nothing but the
// object's stored content and headers: no partNumber, no response-*
// overrides (the presigned URL carries Coffer's own values in those
// parameters) and no checksum headers. Range requests never reach it,
// because their status is 206.
func wholeObjectRequest(r *http.Request) bool {
	query := r.URL.Query()
	if query.Has("partNumber") {
		return false
	}
	for param := range responseOverrides {
		if query.Has(param) {
			return false
		}
	}
	return !strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED")
}

// redirectObject responds with 307 and a presigned backend URL when storage
// redirects are on and o qualifies (see objects.Store.RedirectURL), and
// reports whether it did. The 307 carries the object's ETag. A failure to
// presign is logged and the object is served as usual.
func (h *Handler) redirectObject(w http.ResponseWriter, r *http.Request, o *metadata.Object) bool {
	url, err := h.store.RedirectURL(r.Context(), o)
	if err != nil {
		telemetry.Logger(r.Context()).Warn("object redirect failed; serving the object",
			"bucket", o.Bucket, "key", o.Key, "error", err)
		return false
	}
	if url == "" {
		return false
	}
	w.Header().Set("ETag", `"`+o.ETag+`"`)
	w.Header().Set("Location", url)
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}
