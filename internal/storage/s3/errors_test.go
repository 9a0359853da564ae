package s3

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cofferhq/coffer/internal/storage"
)

// responseError returns an SDK error for an S3 error response.
func responseError(status int, code string) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "test error"},
		},
	}
}

func TestRequestError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"NoSuchKey", responseError(http.StatusNotFound, "NoSuchKey"), storage.ErrNotFound},
		{"404 of HeadObject", responseError(http.StatusNotFound, "NotFound"), storage.ErrNotFound},
		{"SlowDown", responseError(http.StatusServiceUnavailable, "SlowDown"), ErrThrottled},
		{"429", responseError(http.StatusTooManyRequests, "TooManyRequests"), ErrThrottled},
		{"500", responseError(http.StatusInternalServerError, "InternalError"), ErrUnavailable},
		{"503 without code", responseError(http.StatusServiceUnavailable, ""), ErrUnavailable},
		{"RequestTimeout", responseError(http.StatusBadRequest, "RequestTimeout"), ErrUnavailable},
		// A push whose PutObject broke on a reset connection got 500 in the
		// fault e2e test; it is an unavailable store, so the client gets 503.
		{"closed connection", &smithyhttp.RequestSendError{Err: net.ErrClosed}, ErrUnavailable},
		{"refused connection", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := requestError(t.Context(), `read "k"`, tt.err)
			if !errors.Is(err, tt.want) {
				t.Errorf("requestError = %v, want it to wrap %v", err, tt.want)
			}
			if tt.want != storage.ErrNotFound && !errors.Is(err, tt.err) {
				t.Errorf("requestError = %v, want it to keep the SDK error", err)
			}
		})
	}
}

func TestRequestErrorOtherCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"AccessDenied", responseError(http.StatusForbidden, "AccessDenied")},
		{"NoSuchBucket", responseError(http.StatusNotFound, "NoSuchBucket")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := requestError(t.Context(), `read "k"`, tt.err)
			for _, kind := range []error{storage.ErrNotFound, ErrThrottled, ErrUnavailable} {
				if errors.Is(err, kind) {
					t.Errorf("requestError = %v, want it not to wrap %v", err, kind)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("requestError = %v, want it to wrap the SDK error", err)
			}
		})
	}
}

func TestRequestErrorDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := requestError(ctx, `read "k"`, responseError(http.StatusServiceUnavailable, "SlowDown"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("requestError with a cancelled context = %v, want context.Canceled", err)
	}
}
