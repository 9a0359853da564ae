package admin

import (
	"context"
	"net/http"

	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// redirector creates presigned backend URLs for objects; objects.Store
// implements it.
type redirector interface {
	RedirectURL(ctx context.Context, o *metadata.Object) (string, error)
}

// redirectObject responds to a GET of a whole object with 307 and a
// presigned backend URL when storage redirects are on and the object qualifies (see
// objects.Store.RedirectURL), and reports whether it did. The 307 keeps
// the ETag and Coffer-Digest headers, so a client that reads them before
// following can check the digest of what it downloads. A failure to
// presign is logged and the object is served as usual.
func redirectObject(w http.ResponseWriter, r *http.Request, objects redirector, o *metadata.Object) bool {
	url, err := objects.RedirectURL(r.Context(), o)
	if err != nil {
		telemetry.Logger(r.Context()).Warn("object redirect failed; serving the object",
			"bucket", o.Bucket, "key", o.Key, "error", err)
		return false
	}
	if url == "" {
		return false
	}
	http.Redirect(w, r, url, http.StatusTemporaryRedirect)
	return true
}
