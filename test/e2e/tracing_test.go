package e2e

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Trace context of the client: every server span must be a child of
// clientSpanID in clientTraceID.
const (
	clientTraceID = "0af7651916cd43dd8448eb211c80319c"
	clientSpanID  = "b7ad6b7169203331"
)

// spanRecord is one span the receiver got, with hex IDs.
type spanRecord struct {
	name, spanID, parentID, traceID string
	kind                            tracepb.Span_SpanKind
}

// spanSink is an OTLP/HTTP receiver that keeps every span it gets.
type spanSink struct {
	mu    sync.Mutex
	spans []spanRecord
}

func (s *spanSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, "invalid ExportTraceServiceRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, span := range ss.GetSpans() {
				s.spans = append(s.spans, spanRecord{
					name:     span.GetName(),
					spanID:   hex.EncodeToString(span.GetSpanId()),
					parentID: hex.EncodeToString(span.GetParentSpanId()),
					traceID:  hex.EncodeToString(span.GetTraceId()),
					kind:     span.GetKind(),
				})
			}
		}
	}
	s.mu.Unlock()
	resp, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// TestTracingWithS3Storage pushes a blob and a manifest with a traceparent
// header to a cofferd process whose blobs live in a versitygw bucket, and
// checks the trace that cofferd sends when it stops: server spans under the
// client's span, storage and metadata spans under them, and the S3 driver's
// HTTP requests under the storage spans.
func TestTracingWithS3Storage(t *testing.T) {
	sink := &spanSink{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the OTLP receiver: %v", err)
	}
	receiver := &http.Server{Handler: sink}
	go func() { _ = receiver.Serve(ln) }()
	t.Cleanup(func() { _ = receiver.Close() })

	backend := startVersityGW(t)
	srv := startCofferWith(t, t.TempDir(), "", nil,
		"COFFER_TRACING_ENABLED=true",
		"COFFER_TRACING_ENDPOINT=http://"+ln.Addr().String(),
		"COFFER_STORAGE_DRIVER=s3",
		"COFFER_STORAGE_S3_ENDPOINT="+backend.endpoint,
		"COFFER_STORAGE_S3_BUCKET="+backend.bucket,
		"COFFER_STORAGE_S3_PATH_STYLE=true",
		"COFFER_STORAGE_S3_ACCESS_KEY="+backend.accessKey,
		"COFFER_STORAGE_S3_SECRET_KEY="+backend.secretKey,
	)

	pushWithTraceparent(t, srv)
	srv.stop(t)       // drains the listeners, then flushes the exporter
	srv.killed = true // the exit was expected, so the cleanup's stop must not report it

	sink.mu.Lock()
	spans := slices.Clone(sink.spans)
	sink.mu.Unlock()
	byID := map[string]spanRecord{}
	for _, span := range spans {
		if span.traceID == clientTraceID {
			byID[span.spanID] = span
		}
	}

	// children lists the names of the spans whose parent is id, in the
	// order they ended, keeping only names that keep reports.
	children := func(id string, keep func(spanRecord) bool) []string {
		var names []string
		for _, span := range spans {
			if span.traceID == clientTraceID && span.parentID == id && keep(span) {
				names = append(names, span.name)
			}
		}
		return names
	}
	coffer := func(span spanRecord) bool {
		// The stored policies are read when the authorizer's cache of them
		// has expired, which depends on the time since the last request.
		if span.name == "metadata.ListPolicies" {
			return false
		}
		return span.kind != tracepb.Span_SPAN_KIND_CLIENT || isCofferSpan(span.name)
	}
	all := func(spanRecord) bool { return true }

	servers := children(clientSpanID, all)
	wantServers := []string{"POST /v2/{name}/blobs/uploads/", "PUT /v2/{name}/manifests/{reference}"}
	if !slices.Equal(servers, wantServers) {
		t.Fatalf("spans under the client span = %v, want %v", servers, wantServers)
	}
	want := map[string][]string{
		// On S3 the upload stays where it was written: no Move, and the blob
		// store reads the row back to see whether its upload was the first.
		"POST /v2/{name}/blobs/uploads/": {"storage.Writer", "storage.Commit", "metadata.LinkBlob", "metadata.GetBlob"},
		// The manifest's one blob is looked up to check its declared size.
		"PUT /v2/{name}/manifests/{reference}": {"metadata.LookupBlob", "metadata.PutManifest"},
	}
	for _, span := range byID {
		if span.parentID != clientSpanID {
			continue
		}
		if span.kind != tracepb.Span_SPAN_KIND_SERVER {
			t.Errorf("span %q has kind %v, want SERVER", span.name, span.kind)
		}
		if got := children(span.spanID, coffer); !slices.Equal(got, want[span.name]) {
			t.Errorf("storage and metadata spans under %q = %v, want %v", span.name, got, want[span.name])
		}
	}

	// Every request to the bucket is an HTTP client span under a storage
	// span, and Writer and Commit each send at least one.
	backendRequests := map[string]int{}
	for _, span := range byID {
		if span.kind != tracepb.Span_SPAN_KIND_CLIENT || isCofferSpan(span.name) {
			continue
		}
		parent, ok := byID[span.parentID]
		if !ok || !slices.Contains([]string{"storage.Reader", "storage.Stat", "storage.Writer", "storage.Commit", "storage.Cancel", "storage.Move", "storage.Delete", "storage.Walk"}, parent.name) {
			t.Errorf("HTTP client span %q has parent %q, want a storage span", span.name, parent.name)
			continue
		}
		backendRequests[parent.name]++
	}
	t.Logf("HTTP client spans by storage span: %v", backendRequests)
	for _, name := range []string{"storage.Writer", "storage.Commit"} {
		if backendRequests[name] == 0 {
			t.Errorf("no HTTP client span under %s; backend requests by storage span: %v", name, backendRequests)
		}
	}
}

// isCofferSpan reports whether name is a storage or metadata span, which
// are client spans too.
func isCofferSpan(name string) bool {
	return strings.HasPrefix(name, "storage.") || strings.HasPrefix(name, "metadata.")
}

// pushWithTraceparent pushes one blob with a monolithic upload and a
// manifest that references it, both with the client's traceparent.
func pushWithTraceparent(t *testing.T, srv *server) {
	t.Helper()
	traceparent := "00-" + clientTraceID + "-" + clientSpanID + "-01"
	blob := []byte(`{"architecture":"amd64","os":"linux"}`)
	send := func(method, path, contentType string, body []byte) {
		req, err := http.NewRequestWithContext(t.Context(), method, "http://"+srv.addr+path, bytes.NewReader(body))
		if err != nil {
			t.Fatalf("build %s %s: %v", method, path, err)
		}
		req.SetBasicAuth(rootUser, rootPassword)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Traceparent", traceparent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		detail, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s: status %d, want 201: %s", method, path, resp.StatusCode, detail)
		}
	}
	send(http.MethodPost, "/v2/team/app/blobs/uploads/?digest=sha256:"+sha256Hex(blob), "application/octet-stream", blob)
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[]}`,
		sha256Hex(blob), len(blob))
	send(http.MethodPut, "/v2/team/app/manifests/v1", "application/vnd.oci.image.manifest.v1+json", []byte(manifest))
}
