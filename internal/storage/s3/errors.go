package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cofferhq/coffer/internal/storage"
)

var (
	// ErrThrottled reports that the store asked the driver to slow down
	// (SlowDown, HTTP 429 and the SDK's other throttling codes). Retrying
	// after a delay may succeed. It is a case of storage.ErrThrottled.
	ErrThrottled = storage.NewKind("s3 store throttled the request", storage.ErrThrottled)
	// ErrUnavailable reports a server-side failure of the store (HTTP 5xx or
	// a request timeout) or a request that did not get through to it (a
	// refused, reset or closed connection). Retrying may succeed. It is a case of
	// storage.ErrUnavailable.
	ErrUnavailable = storage.NewKind("s3 store failed the request", storage.ErrUnavailable)
)

// errWriterClosed reports a call on a writer after Commit, Cancel or Close.
var errWriterClosed = errors.New("storage writer is already closed")

// requestError wraps err, returned by the SDK for the operation op (such as
// `read "a/b"`). A done ctx returns the context's error, a missing object
// storage.ErrNotFound, and throttling and server failures ErrThrottled and
// ErrUnavailable beside the SDK's error.
func requestError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", op, ctxErr)
	}
	switch {
	case isNotFound(err):
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	case isThrottled(err):
		return fmt.Errorf("%s: %w: %w", op, ErrThrottled, err)
	case isServerFailure(err), isSendFailure(err):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isNotFound reports whether err means that the object does not exist.
// HeadObject responses have no body, so a missing object there is only a
// 404 status, which a missing bucket shares.
func isNotFound(err error) bool {
	if hasErrorCode(err, "NoSuchKey") || hasErrorCode(err, "NotFound") {
		return true
	}
	return statusCode(err) == http.StatusNotFound && !hasErrorCode(err, "NoSuchBucket")
}

// isThrottled reports whether the store rejected the request to slow the client down.
func isThrottled(err error) bool {
	if statusCode(err) == http.StatusTooManyRequests {
		return true
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[apiErr.ErrorCode()]
	return ok
}

// isServerFailure reports whether the store failed the request on its side.
func isServerFailure(err error) bool {
	if hasErrorCode(err, "RequestTimeout") || hasErrorCode(err, "InternalError") {
		return true
	}
	return statusCode(err) >= 500
}

// isSendFailure reports whether the request did not reach the store or no
// response came back: the connection was refused, reset or closed. The
// store may be back for the next request, so it is a case of
// ErrUnavailable like a server failure.
func isSendFailure(err error) bool {
	var sendErr *smithyhttp.RequestSendError
	return errors.As(err, &sendErr)
}

// hasErrorCode reports whether err is an S3 error response with code.
func hasErrorCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

// statusCode returns the HTTP status of the response that caused err, or 0.
func statusCode(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}
