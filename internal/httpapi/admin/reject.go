package admin

import (
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/httpapi/middleware"
)

// Reject implements middleware.Rejection with a problem+json body and
// Retry-After.
func Reject(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, message string) {
	middleware.SetRetryAfter(w, retryAfter)
	WriteProblem(w, r, status, message)
}
