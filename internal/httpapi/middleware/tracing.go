package middleware

import (
	"net"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// operationAttribute carries the operation name a router set with
// SetOperation, such as "manifest_put" or "PutObject".
const operationAttribute = attribute.Key("coffer.operation")

// knownMethods are the request methods that may appear in span names; any
// other method is "_OTHER", so that clients cannot create unbounded names.
var knownMethods = map[string]attribute.KeyValue{
	http.MethodGet: semconv.HTTPRequestMethodGet, http.MethodHead: semconv.HTTPRequestMethodHead,
	http.MethodPut: semconv.HTTPRequestMethodPut, http.MethodPost: semconv.HTTPRequestMethodPost,
	http.MethodPatch: semconv.HTTPRequestMethodPatch, http.MethodDelete: semconv.HTTPRequestMethodDelete,
	http.MethodOptions: semconv.HTTPRequestMethodOptions, http.MethodConnect: semconv.HTTPRequestMethodConnect,
	http.MethodTrace: semconv.HTTPRequestMethodTrace,
}

// Tracing starts a server span for every request, as a child of the W3C
// trace context that the client sent in traceparent, if any. The span is
// named after the method until the router names the route with SetRoute.
// Request paths never become span names, because they contain repository,
// bucket and key names. A nil tracer turns the middleware off.
func Tracing(tracer trace.Tracer, propagator propagation.TextMapPropagator, next http.Handler) http.Handler {
	if tracer == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		method, methodAttr := spanMethod(r.Method)
		ctx, span := tracer.Start(ctx, method,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(requestAttributes(r, methodAttr)...),
		)
		defer span.End()

		counted := &countingWriter{ResponseWriter: w}
		completed := false
		defer func() {
			status := counted.statusCode(completed)
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= http.StatusInternalServerError {
				code := strconv.Itoa(status)
				span.SetAttributes(semconv.ErrorTypeKey.String(code))
				span.SetStatus(codes.Error, code)
			}
		}()
		next.ServeHTTP(counted, r.WithContext(ctx))
		completed = true
	})
}

// SetRoute names the request's server span "METHOD route" and sets its
// http.route attribute. route is a template from a fixed set, such as
// "/v2/{name}/manifests/{reference}". When route is an http.ServeMux
// pattern that starts with a method, the method is removed. SetRoute does
// nothing when the request has no recording span, as when tracing is off.
func SetRoute(r *http.Request, route string) {
	span := trace.SpanFromContext(r.Context())
	if !span.IsRecording() {
		return
	}
	if _, path, ok := strings.Cut(route, " "); ok {
		route = path
	}
	method, _ := spanMethod(r.Method)
	span.SetName(method + " " + route)
	span.SetAttributes(semconv.HTTPRoute(route))
}

// spanMethod returns the method for span names and its attribute.
func spanMethod(method string) (string, attribute.KeyValue) {
	if attr, ok := knownMethods[method]; ok {
		return method, attr
	}
	return "HTTP", semconv.HTTPRequestMethodOther
}

// requestAttributes returns the OpenTelemetry HTTP server attributes known
// when the request arrives. The query string is left out, because presigned
// S3 URLs carry their signature in it.
func requestAttributes(r *http.Request, method attribute.KeyValue) []attribute.KeyValue {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs, method, semconv.URLScheme(scheme), semconv.URLPath(r.URL.Path))
	if host, port, err := net.SplitHostPort(r.Host); err == nil {
		attrs = append(attrs, semconv.ServerAddress(host))
		if n, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.ServerPort(n))
		}
	} else if r.Host != "" {
		attrs = append(attrs, semconv.ServerAddress(r.Host))
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		attrs = append(attrs, semconv.ClientAddress(host), semconv.NetworkPeerAddress(host))
		if n, err := strconv.Atoi(port); err == nil {
			attrs = append(attrs, semconv.NetworkPeerPort(n))
		}
	}
	if agent := r.UserAgent(); agent != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(agent))
	}
	attrs = append(attrs, semconv.NetworkProtocolVersion(protocolVersion(r)))
	return attrs
}

// protocolVersion returns the HTTP version as the semantic conventions
// write it: "1.0", "1.1", "2" or "3".
func protocolVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor >= 2:
		return strconv.Itoa(r.ProtoMajor)
	case r.ProtoMinor == 0:
		return "1.0"
	}
	return "1.1"
}
