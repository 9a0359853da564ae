// Package s3 serves the S3-compatible API over the objects domain. Handlers
// return errors; one table maps them to S3 error codes and statuses, and
// every error response is the S3 XML error body whose RequestId equals the
// x-amz-request-id header.
package s3

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Error is an S3 error with its code and status, for failures found by
// the adapter itself (malformed requests, unsupported operations).
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(code string, status int, message string) *Error {
	return &Error{Code: code, Status: status, Message: message}
}

// Errors raised by the adapter.
func errMalformedXML(detail string) *Error {
	return newError("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema: "+detail)
}

func errInvalidArgument(detail string) *Error {
	return newError("InvalidArgument", http.StatusBadRequest, detail)
}

func errNotImplemented(operation string) *Error {
	return newError("NotImplemented", http.StatusNotImplemented, "A header or query you provided implies functionality that is not implemented: "+operation)
}

var errMethodNotAllowed = newError("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")

// domainErrors maps errors of the objects domain to S3 codes, in match order.
var domainErrors = []struct {
	err    error
	code   string
	status int
}{
	{objects.ErrBucketInvalid, "InvalidBucketName", http.StatusBadRequest},
	{objects.ErrKeyTooLong, "KeyTooLongError", http.StatusBadRequest},
	{objects.ErrKeyInvalid, "InvalidArgument", http.StatusBadRequest},
	{objects.ErrNoSuchBucket, "NoSuchBucket", http.StatusNotFound},
	{objects.ErrNoSuchKey, "NoSuchKey", http.StatusNotFound},
	{objects.ErrBucketExists, "BucketAlreadyOwnedByYou", http.StatusConflict},
	{objects.ErrBucketNotEmpty, "BucketNotEmpty", http.StatusConflict},
	{objects.ErrInvalidDigest, "InvalidDigest", http.StatusBadRequest},
	{objects.ErrBadDigest, "BadDigest", http.StatusBadRequest},
	// PutObject checks x-amz-content-sha256 as the body's content digest.
	{objects.ErrSHA256Mismatch, "XAmzContentSHA256Mismatch", http.StatusBadRequest},
	{objects.ErrInvalidChecksum, "InvalidRequest", http.StatusBadRequest},
	{objects.ErrPreconditionFailed, "PreconditionFailed", http.StatusPreconditionFailed},
	{objects.ErrInvalidRange, "InvalidRange", http.StatusRequestedRangeNotSatisfiable},
	{objects.ErrIncompleteBody, "IncompleteBody", http.StatusBadRequest},
	{stream.ErrRequestBody, "IncompleteBody", http.StatusBadRequest},
	{objects.ErrNoSuchUpload, "NoSuchUpload", http.StatusNotFound},
	{objects.ErrInvalidPartOrder, "InvalidPartOrder", http.StatusBadRequest},
	{objects.ErrInvalidPart, "InvalidPart", http.StatusBadRequest},
	{objects.ErrEntityTooSmall, "EntityTooSmall", http.StatusBadRequest},
	{objects.ErrInvalidArgument, "InvalidArgument", http.StatusBadRequest},
	{objects.ErrNoSuchBucketPolicy, "NoSuchBucketPolicy", http.StatusNotFound},
	{objects.ErrMalformedPolicy, "MalformedPolicy", http.StatusBadRequest},
	{supplychain.ErrDenied, "AccessDenied", http.StatusForbidden},
	// The backend's failures come after the domain's, which name the cause
	// more precisely. Both responses carry Retry-After (see writeError).
	{storage.ErrThrottled, "SlowDown", http.StatusServiceUnavailable},
	{storage.ErrUnavailable, "ServiceUnavailable", http.StatusServiceUnavailable},
}

// errorBody is the S3 XML error document.
type errorBody struct {
	XMLName  xml.Name `xml:"Error"`
	Code     string   `xml:"Code"`
	Message  string   `xml:"Message"`
	Resource string   `xml:"Resource,omitempty"`
	// Region is the region the endpoint serves, sent when the request was
	// signed for another one.
	Region    string `xml:"Region,omitempty"`
	RequestID string `xml:"RequestId"`
}

// classify returns the S3 code, status and message of err.
func classify(err error) (code string, status int, message string, known bool) {
	var s3err *Error
	if errors.As(err, &s3err) {
		return s3err.Code, s3err.Status, s3err.Message, true
	}
	var authErr *sigv4.Error
	if errors.As(err, &authErr) {
		return authErr.Code, authErr.Status, authErr.Message, true
	}
	for _, entry := range domainErrors {
		if errors.Is(err, entry.err) {
			return entry.code, entry.status, err.Error(), true
		}
	}
	return "InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.", false
}

// writeError writes the S3 XML error body of err.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, status, message, known := classify(err)
	audit.SetErrorCode(r.Context(), code)
	if wait, ok := storage.RetryAfter(err); ok && status == http.StatusServiceUnavailable {
		message = unavailable(w, r, err, wait)
	}
	if !known {
		if r.Context().Err() != nil {
			telemetry.Logger(r.Context()).InfoContext(r.Context(), "request cancelled by the client", "error", err)
			return
		}
		telemetry.Logger(r.Context()).ErrorContext(r.Context(), "request failed", "error", err)
	}
	body, _ := xml.Marshal(errorBody{
		Code:      code,
		Message:   message,
		Resource:  r.URL.Path,
		Region:    expectedRegion(err),
		RequestID: w.Header().Get(requestIDHeader),
	})
	header := w.Header()
	for _, name := range []string{"ETag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		header.Del(name)
	}
	header.Set("Content-Type", "application/xml")
	header.Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(xml.Header))
		_, _ = w.Write(body)
	}
}

// expectedRegion returns the region that a credential scope for another
// region should have named, or "" for every other error.
func expectedRegion(err error) string {
	var authErr *sigv4.Error
	if !errors.As(err, &authErr) {
		return ""
	}
	return authErr.Region
}

// unavailable sets Retry-After for a storage failure, logs the failure
// and returns the message for the client, which leaves out the backend's
// details.
func unavailable(w http.ResponseWriter, r *http.Request, err error, wait time.Duration) string {
	seconds := strconv.Itoa(int(wait / time.Second))
	w.Header().Set("Retry-After", seconds)
	telemetry.Logger(r.Context()).WarnContext(r.Context(), "storage unavailable", "error", err, "retry_after", wait)
	if errors.Is(err, storage.ErrThrottled) {
		return "The storage backend is throttling requests. Reduce your request rate and retry after " + seconds + " seconds."
	}
	return "The storage backend is unavailable. Retry after " + seconds + " seconds."
}
