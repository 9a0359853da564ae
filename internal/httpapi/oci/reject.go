package oci

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/httpapi/middleware"
)

// Reject implements middleware.Rejection: TOOMANYREQUESTS for 429 and
// UNAVAILABLE for 503, with Retry-After.
func Reject(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, message string) {
	code := codeUnavailable
	if status == http.StatusTooManyRequests {
		code = codeTooManyRequests
	}
	middleware.SetRetryAfter(w, retryAfter)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code.Status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{Code: code.Code, Message: message}}})
}
