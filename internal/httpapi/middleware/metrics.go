package middleware

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
)

// OperationUnknown labels a request that no router named: an unknown
// path, or a request rejected before routing (such as an OCI request
// without valid credentials).
const OperationUnknown = "unknown"

// Authentication results of coffer_auth_attempts_total.
const (
	authOK     = "ok"
	authFailed = "failed"
)

// requestDurationBuckets cover fast metadata calls up to multi-minute
// uploads of large layers, in seconds.
var requestDurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// HTTPMetrics counts requests per protocol and operation, and
// authentication attempts. Every label has a bounded set of values:
// repository, bucket and key names never become labels.
type HTTPMetrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	requestBytes  *prometheus.CounterVec
	responseBytes *prometheus.CounterVec
	authAttempts  *prometheus.CounterVec
	authFailures  *prometheus.CounterVec
}

// NewHTTPMetrics registers the HTTP and authentication metric families
// with reg. It panics if reg already holds them.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_http_requests_total",
			Help: "HTTP requests by protocol, operation and response status code.",
		}, []string{"protocol", "operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_http_request_duration_seconds",
			Help:    "Time from the start of a request until its handler returned, in seconds.",
			Buckets: requestDurationBuckets,
		}, []string{"protocol", "operation"}),
		requestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_http_request_size_bytes_total",
			Help: "Request body bytes read by handlers.",
		}, []string{"protocol"}),
		responseBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_http_response_size_bytes_total",
			Help: "Response body bytes written.",
		}, []string{"protocol"}),
		authAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_auth_attempts_total",
			Help: "Requests that presented credentials, by authentication method and result.",
		}, []string{"method", "result"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_auth_failures_total",
			Help: "Rejected credentials, by authentication method and reason.",
		}, []string{"method", "reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.requestBytes, m.responseBytes, m.authAttempts, m.authFailures)
	return m
}

// operationHolder carries the operation a router named back to the
// metrics middleware, and the metrics to the authentication layers.
type operationHolder struct {
	operation string
	metrics   *HTTPMetrics
}

type operationKey struct{}

// SetOperation records the name of the request's operation for its
// metrics, and as the coffer.operation attribute of its server span when
// tracing records one. Routers call it once they know the operation; the
// name must come from a fixed set, never from the request path.
func SetOperation(ctx context.Context, operation string) {
	if holder, ok := ctx.Value(operationKey{}).(*operationHolder); ok {
		holder.operation = operation
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.SetAttributes(operationAttribute.String(operation))
	}
}

// RecordAuth counts one authentication attempt in
// coffer_auth_attempts_total. method is a fixed name such as "basic" or
// "sigv4-header". It does nothing outside the Metrics middleware.
func RecordAuth(ctx context.Context, method string, ok bool) {
	holder, found := ctx.Value(operationKey{}).(*operationHolder)
	if !found {
		return
	}
	result := authFailed
	if ok {
		result = authOK
	}
	holder.metrics.authAttempts.WithLabelValues(method, result).Inc()
}

// RecordAuthFailure counts one rejected credential in
// coffer_auth_failures_total. reason must come from a fixed set, such as
// "expired" or "audience". It does nothing outside the Metrics middleware.
func RecordAuthFailure(ctx context.Context, method, reason string) {
	if holder, found := ctx.Value(operationKey{}).(*operationHolder); found {
		holder.metrics.authFailures.WithLabelValues(method, reason).Inc()
	}
}

// Metrics records the count, duration and body sizes of every request
// under protocol ("oci", "s3" or "admin"). The operation label is the name
// a router set with SetOperation. Without one, it is the route pattern
// that http.ServeMux matched, which works only when the ServeMux receives
// the request that Metrics passes on rather than a copy. Otherwise it is
// OperationUnknown. A nil m turns the middleware off.
func Metrics(m *HTTPMetrics, protocol string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	requestBytes := m.requestBytes.WithLabelValues(protocol)
	responseBytes := m.responseBytes.WithLabelValues(protocol)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		holder := &operationHolder{metrics: m}
		body := &countingBody{ReadCloser: r.Body}
		counted := &countingWriter{ResponseWriter: w}

		inner := r.WithContext(context.WithValue(r.Context(), operationKey{}, holder))
		if r.Body != nil {
			inner.Body = body
		}

		completed := false
		defer func() {
			operation := holder.operation
			if operation == "" {
				operation = inner.Pattern
			}
			if operation == "" {
				operation = OperationUnknown
			}
			m.requests.WithLabelValues(protocol, operation, strconv.Itoa(counted.statusCode(completed))).Inc()
			m.duration.WithLabelValues(protocol, operation).Observe(time.Since(started).Seconds())
			requestBytes.Add(float64(body.n.Load()))
			responseBytes.Add(float64(counted.bytes))
		}()
		next.ServeHTTP(counted, inner)
		completed = true
	})
}

// countingBody counts the request body bytes a handler reads. The count
// is atomic so that a handler may read the body on another goroutine.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// countingWriter captures the status code and counts response body bytes.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *countingWriter) WriteHeader(status int) {
	// Informational responses such as 100 Continue precede the final status.
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through, for long responses.
func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// statusCode returns the status sent. A handler that returned without
// writing sent 200; one that panicked before writing gets a 500 from the
// recovery middleware.
func (w *countingWriter) statusCode(completed bool) int {
	switch {
	case w.status != 0:
		return w.status
	case completed:
		return http.StatusOK
	}
	return http.StatusInternalServerError
}
