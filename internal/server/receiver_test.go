package server

import (
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// receivedSpan is one span an OTLP receiver got, with hex IDs.
type receivedSpan struct {
	name         string
	traceID      string
	spanID       string
	parentSpanID string
	kind         tracepb.Span_SpanKind
	attributes   map[string]string
	service      string
}

// otlpReceiver collects the spans of every OTLP export request it gets,
// over HTTP (protobuf) or gRPC.
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer

	mu       sync.Mutex
	requests int
	spans    []receivedSpan
}

// add stores the spans of one export request.
func (o *otlpReceiver) add(req *collectortrace.ExportTraceServiceRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests++
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				attrs := map[string]string{}
				for _, kv := range s.GetAttributes() {
					v := kv.GetValue()
					switch {
					case v.GetStringValue() != "":
						attrs[kv.GetKey()] = v.GetStringValue()
					default:
						attrs[kv.GetKey()] = v.String()
					}
				}
				o.spans = append(o.spans, receivedSpan{
					name:         s.GetName(),
					traceID:      hex.EncodeToString(s.GetTraceId()),
					spanID:       hex.EncodeToString(s.GetSpanId()),
					parentSpanID: hex.EncodeToString(s.GetParentSpanId()),
					kind:         s.GetKind(),
					attributes:   attrs,
					service:      service,
				})
			}
		}
	}
}

// received returns the export request count and a copy of the spans.
func (o *otlpReceiver) received() (int, []receivedSpan) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests, append([]receivedSpan(nil), o.spans...)
}

// Export implements the OTLP gRPC trace service.
func (o *otlpReceiver) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	o.add(req)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// ServeHTTP implements POST /v1/traces of OTLP/HTTP with protobuf bodies.
func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" {
		http.Error(w, "expected POST /v1/traces", http.StatusNotFound)
		return
	}
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
	o.add(&req)
	resp, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// startHTTPReceiver serves an OTLP/HTTP receiver on a free port and
// returns it with its base URL.
func startHTTPReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	receiver := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the OTLP receiver: %v", err)
	}
	srv := &http.Server{Handler: receiver}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return receiver, "http://" + ln.Addr().String()
}

// startGRPCReceiver serves an OTLP/gRPC receiver on a free port and
// returns it with its base URL.
func startGRPCReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	receiver := &otlpReceiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the OTLP receiver: %v", err)
	}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, receiver)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return receiver, "http://" + ln.Addr().String()
}
