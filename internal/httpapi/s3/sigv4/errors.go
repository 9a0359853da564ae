package sigv4

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrUnknownAccessKey is returned by Credentials.Lookup when no secret exists
// for an access key. Verify turns it into InvalidAccessKeyId.
var ErrUnknownAccessKey = errors.New("unknown access key")

// Error is an authentication failure with the S3 error code and HTTP status
// that the response should carry. Verify and Body.Read return every
// authentication and payload failure as an *Error. Any other error, from
// Credentials.Lookup or from the connection, is an internal failure.
type Error struct {
	Code    string // S3 error code, such as "SignatureDoesNotMatch"
	Message string // human-readable message for the <Message> element
	Status  int    // HTTP status code
	Err     error  // underlying cause, if any
	// Region is the region the endpoint serves, set when a credential
	// scope names another one. S3 sends it as <Region>, and s3cmd retries
	// in that region.
	Region string
}

// Error returns the code and message.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, sigv4.ErrSignatureDoesNotMatch) matches every signature
// mismatch whatever its message.
func (e *Error) Is(target error) bool {
	var other *Error
	if !errors.As(target, &other) {
		return false
	}
	return other.Code == e.Code
}

func newError(code, message string, status int) *Error {
	return &Error{Code: code, Message: message, Status: status}
}

// Sentinel errors, one per S3 error code that Verify and Body return. Match
// them with errors.Is; the returned errors carry a more specific Message.
var (
	ErrAccessDenied                      = newError("AccessDenied", "Access Denied", http.StatusForbidden)
	ErrSignatureDoesNotMatch             = newError("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", http.StatusForbidden)
	ErrInvalidAccessKeyID                = newError("InvalidAccessKeyId", "The AWS access key ID you provided does not exist in our records.", http.StatusForbidden)
	ErrRequestTimeTooSkewed              = newError("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", http.StatusForbidden)
	ErrAuthorizationHeaderMalformed      = newError("AuthorizationHeaderMalformed", "The authorization header is malformed.", http.StatusBadRequest)
	ErrAuthorizationQueryParametersError = newError("AuthorizationQueryParametersError", "The query-string authentication parameters are malformed.", http.StatusBadRequest)
	ErrXAmzContentSHA256Mismatch         = newError("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", http.StatusBadRequest)
	ErrMissingContentLength              = newError("MissingContentLength", "You must provide the Content-Length HTTP header.", http.StatusLengthRequired)
	ErrIncompleteBody                    = newError("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.", http.StatusBadRequest)
	ErrBadDigest                         = newError("BadDigest", "The checksum you specified did not match what we received.", http.StatusBadRequest)
	ErrMalformedTrailer                  = newError("MalformedTrailerError", "The request contained trailing data that was not well-formed.", http.StatusBadRequest)
	ErrInvalidRequest                    = newError("InvalidRequest", "Invalid request.", http.StatusBadRequest)
	ErrInvalidArgument                   = newError("InvalidArgument", "Invalid argument.", http.StatusBadRequest)
	ErrNotImplemented                    = newError("NotImplemented", "A header you provided implies functionality that is not implemented.", http.StatusNotImplemented)
)

// withMessage returns a copy of the sentinel with a specific message.
func (e *Error) withMessage(format string, args ...any) *Error {
	return &Error{Code: e.Code, Message: fmt.Sprintf(format, args...), Status: e.Status}
}

// wrapping returns a copy of the sentinel that records cause.
func (e *Error) wrapping(cause error) *Error {
	return &Error{Code: e.Code, Message: e.Message, Status: e.Status, Err: cause}
}
