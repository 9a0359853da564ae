package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// serveTraced sends req through the Tracing middleware around handler and
// returns the one span it recorded with its attributes.
func serveTraced(t *testing.T, req *http.Request, handler http.HandlerFunc) (sdktrace.ReadOnlySpan, map[string]string) {
	t.Helper()
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	Tracing(provider.Tracer("test"), propagation.TraceContext{}, handler).ServeHTTP(httptest.NewRecorder(), req)

	spans := recorder.Ended()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	attrs := map[string]string{}
	for _, attr := range spans[0].Attributes() {
		attrs[string(attr.Key)] = attr.Value.Emit()
	}
	return spans[0], attrs
}

func TestTracingNamesSpanAfterRoute(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://registry.test:5000/v2/team/app/manifests/v1?n=1", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	span, attrs := serveTraced(t, req, func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "manifest_get")
		SetRoute(r, "/v2/{name}/manifests/{reference}")
		w.WriteHeader(http.StatusNotFound)
	})

	if span.Name() != "GET /v2/{name}/manifests/{reference}" {
		t.Errorf("span name = %q, want the route template", span.Name())
	}
	if got := span.Parent().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("parent trace ID = %s, want the traceparent's", got)
	}
	if got := span.Parent().SpanID().String(); got != "00f067aa0ba902b7" {
		t.Errorf("parent span ID = %s, want the traceparent's", got)
	}
	if !span.Parent().IsRemote() {
		t.Error("parent is not remote")
	}
	want := map[string]string{
		"http.request.method":       "GET",
		"http.route":                "/v2/{name}/manifests/{reference}",
		"http.response.status_code": "404",
		"url.path":                  "/v2/team/app/manifests/v1",
		"url.scheme":                "http",
		"server.address":            "registry.test",
		"server.port":               "5000",
		"coffer.operation":          "manifest_get",
		"network.protocol.version":  "1.1",
	}
	for key, value := range want {
		if attrs[key] != value {
			t.Errorf("attribute %s = %q, want %q", key, attrs[key], value)
		}
	}
	if _, ok := attrs["url.query"]; ok {
		t.Error("span records url.query, which may hold a presigned URL's signature")
	}
	if span.Status().Code != codes.Unset {
		t.Errorf("status = %v, want unset for a 404", span.Status())
	}
}

func TestTracingUnknownMethodAndServerError(t *testing.T) {
	req := httptest.NewRequest("BREW", "http://registry.test/v2/", nil)
	span, attrs := serveTraced(t, req, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})

	if span.Name() != "HTTP" {
		t.Errorf("span name = %q, want HTTP for an unknown method and no route", span.Name())
	}
	if attrs["http.request.method"] != "_OTHER" {
		t.Errorf("http.request.method = %q, want _OTHER", attrs["http.request.method"])
	}
	if attrs["error.type"] != "503" {
		t.Errorf("error.type = %q, want 503", attrs["error.type"])
	}
	if span.Status().Code != codes.Error {
		t.Errorf("status = %v, want error for a 503", span.Status())
	}
}

// plainHandler is a comparable handler.
type plainHandler struct{}

func (plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

func TestTracingOffCostsNothing(t *testing.T) {
	var handler http.Handler = plainHandler{}
	if got := Tracing(nil, propagation.TraceContext{}, handler); got != handler {
		t.Errorf("Tracing(nil) = %T, want the handler itself", got)
	}

	req := httptest.NewRequest(http.MethodGet, "/v2/team/app/manifests/v1", nil)
	allocs := testing.AllocsPerRun(100, func() {
		SetOperation(req.Context(), "manifest_get")
		SetRoute(req, "/v2/{name}/manifests/{reference}")
	})
	if allocs != 0 {
		t.Errorf("SetOperation and SetRoute without a span allocate %.0f times, want 0", allocs)
	}
}
