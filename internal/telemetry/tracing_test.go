package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestNewSampler(t *testing.T) {
	tests := []struct {
		name, arg string
		want      string // Description of the sampler
	}{
		{"always_on", "", "AlwaysOnSampler"},
		{"always_off", "", "AlwaysOffSampler"},
		{"traceidratio", "0.25", "TraceIDRatioBased{0.25}"},
		{"parentbased_always_on", "", "ParentBased{root:AlwaysOnSampler"},
		{"parentbased_traceidratio", "0.5", "ParentBased{root:TraceIDRatioBased{0.5}"},
		{"parentbased_traceidratio", "", "ParentBased{root:TraceIDRatioBased{1}"},
	}
	for _, tt := range tests {
		sampler, err := NewSampler(tt.name, tt.arg)
		if err != nil {
			t.Errorf("NewSampler(%q, %q): %v", tt.name, tt.arg, err)
			continue
		}
		if got := sampler.Description(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("NewSampler(%q, %q) = %s, want %s...", tt.name, tt.arg, got, tt.want)
		}
	}
}

func TestNewSamplerRejects(t *testing.T) {
	for _, tt := range []struct{ name, arg, want string }{
		{"sometimes", "", `unknown sampler "sometimes"`},
		{"traceidratio", "1.5", `invalid sampler argument "1.5"`},
		{"traceidratio", "half", `invalid sampler argument "half"`},
	} {
		_, err := NewSampler(tt.name, tt.arg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSampler(%q, %q) error = %v, want it to contain %q", tt.name, tt.arg, err, tt.want)
		}
	}
}

func TestTracingProtocolPrecedence(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "")
	if got := tracingProtocol(""); got != ProtocolGRPC {
		t.Errorf("with OTEL_EXPORTER_OTLP_PROTOCOL=grpc: protocol = %q, want grpc", got)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
	if got := tracingProtocol(""); got != ProtocolHTTPProtobuf {
		t.Errorf("with OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf: protocol = %q, want http/protobuf", got)
	}
	if got := tracingProtocol(ProtocolGRPC); got != ProtocolGRPC {
		t.Errorf("configured grpc: protocol = %q, want grpc over the environment", got)
	}
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "")
	if got := tracingProtocol(""); got != ProtocolHTTPProtobuf {
		t.Errorf("nothing set: protocol = %q, want http/protobuf", got)
	}
}

func TestNewTracingRejectsUnknownProtocol(t *testing.T) {
	_, err := NewTracing(t.Context(), TracingOptions{Protocol: "carrier-pigeon"})
	if err == nil || !strings.Contains(err.Error(), `unsupported OTLP protocol "carrier-pigeon"`) {
		t.Errorf("NewTracing error = %v, want it to name the unsupported protocol", err)
	}
}

func TestLoggerAddsSpanIDs(t *testing.T) {
	var buf bytes.Buffer
	logger := NewLogger(&buf, "json", "info").With("request_id", "r1")
	provider := sdktrace.NewTracerProvider()
	ctx, span := provider.Tracer("test").Start(context.Background(), "request")
	defer span.End()

	logger.InfoContext(ctx, "with span")
	logger.InfoContext(context.Background(), "without span")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2", len(lines))
	}
	var with, without map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &with); err != nil {
		t.Fatalf("parse %q: %v", lines[0], err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &without); err != nil {
		t.Fatalf("parse %q: %v", lines[1], err)
	}
	if with["trace_id"] != span.SpanContext().TraceID().String() {
		t.Errorf("trace_id = %v, want %s", with["trace_id"], span.SpanContext().TraceID())
	}
	if with["span_id"] != span.SpanContext().SpanID().String() {
		t.Errorf("span_id = %v, want %s", with["span_id"], span.SpanContext().SpanID())
	}
	if with["request_id"] != "r1" {
		t.Errorf("request_id = %v, want r1 kept through With", with["request_id"])
	}
	if _, ok := without["trace_id"]; ok {
		t.Errorf("line without a span has trace_id %v", without["trace_id"])
	}
}

func TestSamplerSettingsFallBackToEnvironment(t *testing.T) {
	t.Setenv("OTEL_TRACES_SAMPLER", "traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0.2")
	tests := []struct {
		opts              TracingOptions
		wantName, wantArg string
	}{
		{TracingOptions{}, "", ""}, // the SDK reads the variables itself
		{TracingOptions{Sampler: "parentbased_traceidratio"}, "parentbased_traceidratio", "0.2"},
		{TracingOptions{SamplerArg: "0.5"}, "traceidratio", "0.5"},
		{TracingOptions{Sampler: "always_on", SamplerArg: "1"}, "always_on", "1"},
	}
	for _, tt := range tests {
		name, arg := samplerSettings(tt.opts)
		if name != tt.wantName || arg != tt.wantArg {
			t.Errorf("samplerSettings(%+v) = %q, %q, want %q, %q", tt.opts, name, arg, tt.wantName, tt.wantArg)
		}
	}
}
