package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Trace context of the client in the tracing tests: every server span must
// be a child of clientSpanID in clientTraceID.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
	traceparent   = "00-" + clientTraceID + "-" + clientSpanID + "-01"
)

// runServer runs cofferd in the test process with the given environment,
// JSON logs into logs, and waits until it has started. The returned stop
// function cancels Run and waits for it, which drains the listeners and
// then flushes the trace exporter.
func runServer(t *testing.T, logs *lockedBuffer, environ ...string) (*testServer, func()) {
	t.Helper()
	addresses := freeAddresses(t, 2)
	environ = append(environ, "COFFER_ROOT_USER="+testRootUser, "COFFER_ROOT_PASSWORD="+testRootPassword)
	flags := config.Flags{DataDir: t.TempDir(), Listen: addresses[0], S3Listen: addresses[1]}
	cfg, _, err := config.Load(flags, environ)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}

	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	logger := telemetry.NewLogger(logs, "json", "info")
	go func() { done <- Run(ctx, cfg, logger, &bytes.Buffer{}) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)

	srv := &testServer{api: "http://" + cfg.Listen, s3: "http://" + cfg.S3.Listen}
	waitStarted(t, srv.api, done)
	return srv, stop
}

// pushTraced pushes one blob with a monolithic upload and a manifest that
// references it to team/app, each request with the client's traceparent.
func pushTraced(t *testing.T, base string) {
	t.Helper()
	blob := []byte(`{"architecture":"amd64","os":"linux"}`)
	url := fmt.Sprintf("%s/v2/team/app/blobs/uploads/?digest=sha256:%s", base, sha256Hex(blob))
	req := newRequest(t, http.MethodPost, url, blob)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Traceparent", traceparent)
	if status, body := send(t, req); status != http.StatusCreated {
		t.Fatalf("blob upload: status %d, body %s", status, body)
	}

	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[]}`,
		sha256Hex(blob), len(blob))
	req = newRequest(t, http.MethodPut, base+"/v2/team/app/manifests/v1", []byte(manifest))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	req.Header.Set("Traceparent", traceparent)
	if status, body := send(t, req); status != http.StatusCreated {
		t.Fatalf("manifest put: status %d, body %s", status, body)
	}
}

// putObjectTraced creates a bucket and stores one object in it over the
// S3 API, each request with the client's traceparent.
func putObjectTraced(t *testing.T, base string) {
	t.Helper()
	header := http.Header{"Traceparent": {traceparent}}
	if status, body := sendSignedWith(t, http.MethodPut, base+"/releases", nil, header); status != http.StatusOK {
		t.Fatalf("CreateBucket: status %d, body %s", status, body)
	}
	if status, body := sendSignedWith(t, http.MethodPut, base+"/releases/v1/tool.tar.gz", []byte("release archive"), header); status != http.StatusOK {
		t.Fatalf("PutObject: status %d, body %s", status, body)
	}
}

// wantTrace lists, for every server span the client's requests cause, its
// children in the order they end. Every S3 request reads the policy of its
// bucket before the policy engine decides it. A manifest push looks up each
// blob it references to compare the declared size.
var wantTrace = map[string][]string{
	"POST /v2/{name}/blobs/uploads/":       {"storage.Writer", "storage.Commit", "storage.Stat", "storage.Move", "metadata.LinkBlob"},
	"PUT /v2/{name}/manifests/{reference}": {"metadata.LookupBlob", "metadata.PutManifest"},
	"PUT /{bucket}":                        {"metadata.GetBucketPolicy", "metadata.CreateBucket"},
	"PUT /{bucket}/{key}":                  {"metadata.GetBucketPolicy", "metadata.GetBucket", "storage.Writer", "storage.Commit", "storage.Stat", "storage.Move", "metadata.PutObject"},
}

// checkClientTrace asserts that the spans of the client's trace are
// exactly the server spans of wantTrace, each a child of the client's
// span, and their storage and metadata children, and that each server span
// has service.name service. It returns the server span IDs by name.
func checkClientTrace(t *testing.T, spans []receivedSpan, service string) map[string]string {
	t.Helper()
	var inTrace []receivedSpan
	for _, span := range spans {
		if span.traceID == clientTraceID {
			inTrace = append(inTrace, span)
		}
	}

	servers := map[string]string{} // server span ID by name
	for _, span := range inTrace {
		if span.parentSpanID != clientSpanID {
			continue
		}
		if span.kind != tracepb.Span_SPAN_KIND_SERVER {
			t.Errorf("span %q under the client span has kind %v, want SERVER", span.name, span.kind)
		}
		if span.service != service {
			t.Errorf("span %q has service.name %q, want %q", span.name, span.service, service)
		}
		if span.attributes["http.route"] != strings.SplitN(span.name, " ", 2)[1] {
			t.Errorf("span %q has http.route %q, want the route of its name", span.name, span.attributes["http.route"])
		}
		if _, dup := servers[span.name]; dup {
			t.Errorf("server span %q appears twice", span.name)
		}
		servers[span.name] = span.spanID
	}
	if len(servers) != len(wantTrace) {
		t.Errorf("server spans under the client span = %v, want the %d of %v", servers, len(wantTrace), wantTrace)
	}

	children := map[string][]string{} // child span names by server span name
	for _, span := range inTrace {
		if span.parentSpanID == clientSpanID {
			continue
		}
		parent := ""
		for name, id := range servers {
			if id == span.parentSpanID {
				parent = name
			}
		}
		if parent == "" {
			t.Errorf("span %q has parent %s, which is no server span of the trace", span.name, span.parentSpanID)
			continue
		}
		if span.kind != tracepb.Span_SPAN_KIND_CLIENT {
			t.Errorf("span %q has kind %v, want CLIENT", span.name, span.kind)
		}
		if span.name == "metadata.ListPolicies" {
			// The stored policies are read when the authorizer's cache
			// of them has expired, which depends on the time since the
			// previous request.
			continue
		}
		children[parent] = append(children[parent], span.name)
	}
	for server, want := range wantTrace {
		if _, ok := servers[server]; !ok {
			t.Errorf("no server span %q", server)
			continue
		}
		if !slices.Equal(children[server], want) {
			t.Errorf("children of %q = %v, want %v", server, children[server], want)
		}
	}
	return servers
}

// requestLogs returns the trace_id and span_id fields of the access log
// lines, by "METHOD path".
func requestLogs(t *testing.T, logs string) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	scanner := bufio.NewScanner(strings.NewReader(logs))
	for scanner.Scan() {
		var line struct {
			Msg     string `json:"msg"`
			Method  string `json:"method"`
			Path    string `json:"path"`
			TraceID string `json:"trace_id"`
			SpanID  string `json:"span_id"`
		}
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", scanner.Text(), err)
		}
		if line.Msg == "request" {
			out[line.Method+" "+line.Path] = [2]string{line.TraceID, line.SpanID}
		}
	}
	return out
}

func TestTracingOverOTLPHTTP(t *testing.T) {
	receiver, endpoint := startHTTPReceiver(t)
	logs := &lockedBuffer{}
	srv, stop := runServer(t, logs, "COFFER_TRACING_ENABLED=true", "COFFER_TRACING_ENDPOINT="+endpoint)

	pushTraced(t, srv.api)
	putObjectTraced(t, srv.s3)
	if status, body := send(t, newRequest(t, http.MethodGet, srv.api+"/readyz", nil)); status != http.StatusOK {
		t.Fatalf("GET /readyz: status %d, body %s", status, body)
	}
	stop() // drains the listeners, then flushes the exporter

	_, spans := receiver.received()
	servers := checkClientTrace(t, spans, "cofferd")

	// Only background runs start traces of their own: the storage and
	// metadata checks of /readyz must not.
	for _, span := range spans {
		background := slices.Contains([]string{"gc.Collect", "s3.ExpireUploads"}, span.name)
		if span.parentSpanID == "" && !background {
			t.Errorf("span %q is the root of a trace, want only gc.Collect and s3.ExpireUploads as roots", span.name)
		}
	}

	lines := requestLogs(t, logs.String())
	for request, server := range map[string]string{
		"POST /v2/team/app/blobs/uploads/": "POST /v2/{name}/blobs/uploads/",
		"PUT /v2/team/app/manifests/v1":    "PUT /v2/{name}/manifests/{reference}",
		"PUT /releases/v1/tool.tar.gz":     "PUT /{bucket}/{key}",
	} {
		want := [2]string{clientTraceID, servers[server]}
		if got := lines[request]; got != want {
			t.Errorf("access log of %s: trace_id, span_id = %v, want %v", request, got, want)
		}
	}
	if got := lines["GET /startupz"]; got != [2]string{} {
		t.Errorf("access log of GET /startupz has trace_id, span_id %v, want none: health probes get no span", got)
	}
}

// TestTracingOverOTLPGRPC configures the exporter with the standard
// OTEL_* variables only.
func TestTracingOverOTLPGRPC(t *testing.T) {
	receiver, endpoint := startGRPCReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_SERVICE_NAME", "coffer-grpc-test")
	t.Setenv("OTEL_TRACES_SAMPLER", "parentbased_always_on")
	logs := &lockedBuffer{}
	srv, stop := runServer(t, logs, "COFFER_TRACING_ENABLED=true")

	pushTraced(t, srv.api)
	putObjectTraced(t, srv.s3)
	stop()

	_, spans := receiver.received()
	checkClientTrace(t, spans, "coffer-grpc-test")
}

// TestTracingOffStartsNoExporter points every OTEL_* variable at a
// receiver but leaves tracing.enabled off: nothing may be sent, and log
// lines carry no trace IDs.
func TestTracingOffStartsNoExporter(t *testing.T) {
	receiver, endpoint := startHTTPReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	logs := &lockedBuffer{}
	srv, stop := runServer(t, logs)

	pushTraced(t, srv.api)
	putObjectTraced(t, srv.s3)
	stop()

	if requests, spans := receiver.received(); requests != 0 || len(spans) != 0 {
		t.Errorf("receiver got %d export requests with %d spans, want none with tracing off", requests, len(spans))
	}
	if strings.Contains(logs.String(), "tracing enabled") {
		t.Error(`log has "tracing enabled" with tracing off`)
	}
	for request, ids := range requestLogs(t, logs.String()) {
		if ids != [2]string{} {
			t.Errorf("access log of %s has trace_id, span_id %v with tracing off", request, ids)
		}
	}
}
