package admin

import (
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/httpapi/middleware"
)

// Refuse implements middleware.Refusal with a problem+json body and
// Retry-After.
func Refuse(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, message string) {
	middleware.SetRetryAfter(w, retryAfter)
	WriteProblem(w, r, status, message)
}
