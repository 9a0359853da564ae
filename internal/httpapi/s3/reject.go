package s3

import (
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/httpapi/middleware"
)

// Reject implements middleware.Rejection with the S3 error table's codes:
// a 429 becomes 503 SlowDown, the throttling code AWS documents and the
// SDKs back off on, and a 503 is ServiceUnavailable. Both carry
// Retry-After.
func Reject(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, message string) {
	code := "ServiceUnavailable"
	if status == http.StatusTooManyRequests {
		code = "SlowDown"
	}
	middleware.SetRetryAfter(w, retryAfter)
	w.Header().Set(requestIDHeader, w.Header().Get(middleware.RequestIDHeader))
	writeError(w, r, newError(code, http.StatusServiceUnavailable, message))
}
