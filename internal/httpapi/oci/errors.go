// Package oci serves the OCI distribution API (v1.1) over the registry
// domain. Handlers return errors; one table maps them to the
// specification's error codes and HTTP statuses.
package oci

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// errorCode is one entry of the error codes table of the distribution
// specification ("Error Codes").
type errorCode struct {
	Code   string
	Status int
}

// errorTable maps domain errors to OCI error codes, in match order.
var errorTable = []struct {
	err  error
	code errorCode
}{
	{registry.ErrNameInvalid, errorCode{"NAME_INVALID", http.StatusBadRequest}},
	{registry.ErrNameUnknown, errorCode{"NAME_UNKNOWN", http.StatusNotFound}},
	{registry.ErrTagInvalid, errorCode{"MANIFEST_INVALID", http.StatusBadRequest}},
	{registry.ErrDigestInvalid, errorCode{"DIGEST_INVALID", http.StatusBadRequest}},
	{registry.ErrDigestUnsupported, errorCode{"DIGEST_INVALID", http.StatusBadRequest}},
	{registry.ErrBlobUnknown, errorCode{"BLOB_UNKNOWN", http.StatusNotFound}},
	{registry.ErrUploadUnknown, errorCode{"BLOB_UPLOAD_UNKNOWN", http.StatusNotFound}},
	{registry.ErrRangeInvalid, errorCode{"BLOB_UPLOAD_INVALID", http.StatusRequestedRangeNotSatisfiable}},
	{registry.ErrUploadInvalid, errorCode{"BLOB_UPLOAD_INVALID", http.StatusBadRequest}},
	{registry.ErrSizeInvalid, errorCode{"SIZE_INVALID", http.StatusBadRequest}},
	{stream.ErrRequestBody, errorCode{"BLOB_UPLOAD_INVALID", http.StatusBadRequest}},
	{registry.ErrManifestUnknown, errorCode{"MANIFEST_UNKNOWN", http.StatusNotFound}},
	{registry.ErrManifestBlobUnknown, errorCode{"MANIFEST_BLOB_UNKNOWN", http.StatusBadRequest}},
	{registry.ErrManifestInvalid, errorCode{"MANIFEST_INVALID", http.StatusBadRequest}},
	{registry.ErrManifestTooLarge, errorCode{"SIZE_INVALID", http.StatusRequestEntityTooLarge}},
	{registry.ErrNotAcceptable, errorCode{"MANIFEST_UNKNOWN", http.StatusNotFound}},
	{registry.ErrPaginationInvalid, errorCode{"PAGINATION_NUMBER_INVALID", http.StatusBadRequest}},
	{supplychain.ErrDenied, errorCode{"DENIED", http.StatusForbidden}},
	{errUnauthorized, errorCode{"UNAUTHORIZED", http.StatusUnauthorized}},
	{errDenied, errorCode{"DENIED", http.StatusForbidden}},
	{errAuthUnavailable, errorCode{"UNAVAILABLE", http.StatusServiceUnavailable}},
	{errUnsupported, errorCode{"UNSUPPORTED", http.StatusMethodNotAllowed}},
	{errNotFound, errorCode{"NOT_FOUND", http.StatusNotFound}},
	// The backend's failures come after the domain's, which name the cause
	// more precisely. The distribution spec has no code for an unavailable
	// backend, so UNAVAILABLE is Coffer's own; clients act on the status and
	// Retry-After. Both responses carry Retry-After (see writeError).
	{storage.ErrThrottled, codeTooManyRequests},
	{storage.ErrUnavailable, codeUnavailable},
}

var (
	codeTooManyRequests = errorCode{"TOOMANYREQUESTS", http.StatusTooManyRequests}
	codeUnavailable     = errorCode{"UNAVAILABLE", http.StatusServiceUnavailable}
)

var (
	errUnauthorized = errors.New("authentication required")
	errUnsupported  = errors.New("operation not supported")
	errNotFound     = errors.New("no such endpoint")
)

var errInternal = errorCode{"INTERNAL_ERROR", http.StatusInternalServerError}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// lookupCode returns the OCI code of err, or INTERNAL_ERROR.
func lookupCode(err error) (errorCode, bool) {
	for _, entry := range errorTable {
		if errors.Is(err, entry.err) {
			return entry.code, true
		}
	}
	return errInternal, false
}

// writeError writes the OCI error body of err. Unknown errors are logged
// and get a generic message, so internals never leak.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, known := lookupCode(err)
	message := err.Error()
	if errors.Is(err, storage.ErrThrottled) || errors.Is(err, storage.ErrUnavailable) {
		message = unavailable(w, r, err)
	}
	if !known && r.Context().Err() != nil {
		// The client went away, so no response is written.
		telemetry.Logger(r.Context()).InfoContext(r.Context(), "request cancelled by the client", "error", err)
		return
	}
	if !known {
		telemetry.Logger(r.Context()).ErrorContext(r.Context(), "request failed", "error", err)
		message = "internal error; the server log has the details under this request ID"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Del("Content-Length")
	w.Header().Del("Docker-Content-Digest")
	w.WriteHeader(code.Status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(errorBody{Errors: []errorEntry{{Code: code.Code, Message: message}}})
}

// unavailable sets Retry-After for a storage failure, logs the failure
// and returns the message for the client, which leaves out the backend's
// details.
func unavailable(w http.ResponseWriter, r *http.Request, err error) string {
	wait, _ := storage.RetryAfter(err)
	seconds := strconv.Itoa(int(wait / time.Second))
	w.Header().Set("Retry-After", seconds)
	telemetry.Logger(r.Context()).WarnContext(r.Context(), "storage unavailable", "error", err, "retry_after", wait)
	if errors.Is(err, storage.ErrThrottled) {
		return "the storage backend is throttling requests; retry after " + seconds + " seconds"
	}
	return "the storage backend is unavailable; retry after " + seconds + " seconds"
}
