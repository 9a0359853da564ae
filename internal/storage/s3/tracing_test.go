package s3

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestWrapTransportSendsTraceparent checks that with WrapTransport set to
// an OpenTelemetry transport, each request to the endpoint carries the
// trace context of the call, so the backend can continue the trace.
func TestWrapTransportSendsTraceparent(t *testing.T) {
	isolateAWSConfig(t)
	var mu sync.Mutex
	received := map[string]string{} // traceparent by method and path
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received[r.Method+" "+r.URL.Path] = r.Header.Get("Traceparent")
		mu.Unlock()
		if r.URL.Path == "/bucket" {
			w.WriteHeader(http.StatusOK) // HeadBucket
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(backend.Close)

	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	wrap := func(base http.RoundTripper) http.RoundTripper {
		return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(provider), otelhttp.WithPropagators(propagation.TraceContext{}))
	}
	d, err := New(t.Context(), Options{
		Endpoint: backend.URL, Bucket: "bucket", PathStyle: true,
		AccessKey: "access", SecretKey: "secret", WrapTransport: wrap,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	ctx, span := provider.Tracer("test").Start(t.Context(), "request")
	_, err = d.Stat(ctx, "blobs/missing")
	span.End()
	if err == nil {
		t.Fatal("Stat of a missing key succeeded, want ErrNotFound")
	}

	mu.Lock()
	got := received["HEAD /bucket/blobs/missing"]
	mu.Unlock()
	var client sdktrace.ReadOnlySpan
	for _, s := range recorder.Ended() {
		if s.Parent().SpanID() == span.SpanContext().SpanID() {
			client = s
		}
	}
	if client == nil {
		t.Fatalf("no client span under the request span; spans: %d", len(recorder.Ended()))
	}
	want := "00-" + span.SpanContext().TraceID().String() + "-" + client.SpanContext().SpanID().String() + "-01"
	if got != want {
		t.Errorf("HeadObject traceparent = %q, want %q (the client span in the caller's trace)", got, want)
	}
}
