package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Every error the client returns for a failed request
// wraps one of them; test with errors.Is.
var (
	// ErrInvalidRequest is a request the server rejected as malformed (400),
	// such as an invalid bucket name, key or digest.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrUnauthorized means the server did not accept the credentials, or
	// none were sent (401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden means the credentials are valid but do not allow the
	// request (403). The [*Error] carries the server's explanation in
	// Message and, from the management API, the decision in Denial.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound means the bucket, object, repository, manifest, blob,
	// webhook or upload session does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request conflicts with the current state (409),
	// such as a bucket that exists or is not empty.
	ErrConflict = errors.New("conflict")
	// ErrPreconditionFailed means an If-Match condition failed (412): the
	// object changed since the download started.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrRangeNotSatisfiable means a requested byte range or upload offset
	// does not fit the object or session (416).
	ErrRangeNotSatisfiable = errors.New("range not satisfiable")
	// ErrIntegrity means content did not match its digest or size, whether
	// the client or the server found the mismatch.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrUnavailable means the server or its storage could not serve the
	// request: a network error, 429, 5xx, or an open circuit breaker.
	ErrUnavailable = errors.New("service unavailable")
	// ErrCircuitOpen means the circuit breaker rejected the request without
	// sending it. It also wraps ErrUnavailable.
	ErrCircuitOpen = errors.New("circuit breaker open")
	// ErrServer is a 500 or another unexpected status.
	ErrServer = errors.New("server error")
)

// Error is a failed HTTP request. It unwraps to the sentinel error for its
// status, such as [ErrNotFound] for 404.
type Error struct {
	// Method and Path name the request, such as "GET /api/v1/buckets".
	Method, Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the OCI error code (such as "MANIFEST_UNKNOWN") or, for the
	// management API, the problem title (such as "Not Found").
	Code string
	// Message is the server's explanation: the OCI error message or the
	// problem detail. For 403 it names the rule that denied the request.
	Message string
	// RequestID is the server's X-Request-Id, to find the request in its log.
	RequestID string
	// RetryAfter is the wait the server asked for with Retry-After, or zero.
	RetryAfter time.Duration
	// Denial is set for a 403 of the management API: the principal,
	// action, resource and reason of the policy decision that denied the
	// request. Pass Denial.ExplainRequest() to [Client.Explain] for the
	// statements behind it.
	Denial *Denial
}

// Error returns the request, the status and the server's code and message.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" && e.Code != http.StatusText(e.StatusCode) {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Unwrap returns the sentinel error of the status.
func (e *Error) Unwrap() error {
	switch e.StatusCode {
	case http.StatusBadRequest:
		return integrityOrInvalid(e)
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusPreconditionFailed:
		return ErrPreconditionFailed
	case http.StatusRequestedRangeNotSatisfiable:
		return ErrRangeNotSatisfiable
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	}
	return ErrServer
}

// integrityOrInvalid tells content that did not match its digest or
// declared size (the content's fault) from a malformed request. The server
// reports both with 400; its messages "content does not match its digest"
// and "body shorter or longer than declared" and the OCI code SIZE_INVALID
// mark the first kind.
func integrityOrInvalid(e *Error) error {
	message := strings.ToLower(e.Message)
	if e.Code == "SIZE_INVALID" || strings.Contains(message, "does not match") || strings.Contains(message, "mismatch") ||
		strings.Contains(message, "shorter or longer") {
		return ErrIntegrity
	}
	return ErrInvalidRequest
}

// responseError reads an error response into an [*Error] and closes its
// body. It understands RFC 9457 problem details and OCI error bodies.
func responseError(method string, resp *http.Response) error {
	defer drain(resp)
	e := &Error{
		Method:     method,
		Path:       resp.Request.URL.Path,
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var problem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &problem) == nil {
		switch {
		case len(problem.Errors) > 0:
			e.Code, e.Message = problem.Errors[0].Code, problem.Errors[0].Message
		default:
			e.Code, e.Message = problem.Title, problem.Detail
		}
	}
	if e.StatusCode == http.StatusForbidden {
		e.Denial = parseDenial(e.Message)
	}
	return e
}

// parseRetryAfter reads Retry-After in seconds or as an HTTP date.
func parseRetryAfter(value string, now time.Time) time.Duration {
	if value == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(strings.TrimSpace(value)); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second
	}
	if when, err := http.ParseTime(value); err == nil && when.After(now) {
		return when.Sub(now)
	}
	return 0
}

// IntegrityError is content that did not match its expected digest or
// size. It unwraps to [ErrIntegrity].
type IntegrityError struct {
	// What names the content, such as "object releases/app.tar".
	What string
	// Expected and Actual are the digests (or sizes) compared.
	Expected, Actual string
}

// Error names the content and the values compared.
func (e *IntegrityError) Error() string {
	return fmt.Sprintf("%s: expected %s, got %s", e.What, e.Expected, e.Actual)
}

// Unwrap returns [ErrIntegrity].
func (e *IntegrityError) Unwrap() error { return ErrIntegrity }
