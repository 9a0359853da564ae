package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Tracer and service names used when nothing else names them.
const (
	tracerName         = "github.com/cofferhq/coffer"
	defaultServiceName = "cofferd"
)

// OTLP protocols that TracingOptions.Protocol and the OTEL_EXPORTER_OTLP_*
// protocol variables select.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolHTTPJSON     = "http/json"
)

// TracingOptions configures the trace pipeline. An empty field falls back to
// the standard OTEL_* environment variable, read by the OpenTelemetry SDK,
// and then to the SDK's default.
type TracingOptions struct {
	// Endpoint is the base URL of the OTLP receiver, as in
	// OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" for HTTP, where
	// /v1/traces is appended, or "http://collector:4317" for gRPC. An http
	// scheme sends without TLS.
	Endpoint string
	// Protocol is ProtocolGRPC or ProtocolHTTPProtobuf.
	Protocol string
	// Sampler is a sampler name of OTEL_TRACES_SAMPLER, such as
	// "parentbased_traceidratio", and SamplerArg its argument.
	Sampler    string
	SamplerArg string
	// ServiceName is the service.name resource attribute.
	ServiceName string
	// ServiceVersion is the service.version resource attribute.
	ServiceVersion string
}

// Tracing is a running trace pipeline: a tracer provider that batches spans
// and sends them over OTLP, and the W3C trace context propagator.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	protocol   string
}

// NewTracing builds the exporter, the resource and the tracer provider. No
// connection is made here: the exporter connects when it sends the first
// batch, so an unreachable collector does not stop the server from starting.
func NewTracing(ctx context.Context, opts TracingOptions) (*Tracing, error) {
	protocol := tracingProtocol(opts.Protocol)
	exporter, err := newExporter(ctx, protocol, opts.Endpoint)
	if err != nil {
		return nil, err
	}
	res, err := newResource(ctx, opts)
	if err != nil {
		return nil, errors.Join(err, exporter.Shutdown(ctx))
	}

	providerOpts := []sdktrace.TracerProviderOption{sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)}
	if name, arg := samplerSettings(opts); name != "" {
		sampler, err := NewSampler(name, arg)
		if err != nil {
			return nil, errors.Join(err, exporter.Shutdown(ctx))
		}
		providerOpts = append(providerOpts, sdktrace.WithSampler(sampler))
	}
	provider := sdktrace.NewTracerProvider(providerOpts...)
	return &Tracing{
		provider:   provider,
		tracer:     provider.Tracer(tracerName),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		protocol:   protocol,
	}, nil
}

// tracingProtocol returns the protocol to use: the configured one, else
// the value of the OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL variable, else http/protobuf, the default of
// the OpenTelemetry specification.
func tracingProtocol(configured string) string {
	for _, p := range []string{configured, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")} {
		if p != "" {
			return p
		}
	}
	return ProtocolHTTPProtobuf
}

// samplerSettings returns the sampler name and argument, each from opts or
// else from OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. An empty name
// leaves the choice to the SDK, which reads the same variables and
// defaults to parentbased_always_on.
func samplerSettings(opts TracingOptions) (name, arg string) {
	if opts.Sampler == "" && opts.SamplerArg == "" {
		return "", ""
	}
	name, arg = opts.Sampler, opts.SamplerArg
	if name == "" {
		name = os.Getenv("OTEL_TRACES_SAMPLER")
	}
	if arg == "" {
		arg = os.Getenv("OTEL_TRACES_SAMPLER_ARG")
	}
	return name, arg
}

// newExporter returns the OTLP exporter for protocol. The exporters read
// the other OTEL_EXPORTER_OTLP_* variables (headers, timeout, certificates,
// compression) themselves.
func newExporter(ctx context.Context, protocol, endpoint string) (sdktrace.SpanExporter, error) {
	switch protocol {
	case ProtocolGRPC:
		var opts []otlptracegrpc.Option
		if endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
		}
		exporter, err := otlptracegrpc.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("create OTLP gRPC trace exporter: %w", err)
		}
		return exporter, nil
	case ProtocolHTTPProtobuf, ProtocolHTTPJSON:
		var opts []otlptracehttp.Option
		if endpoint != "" {
			tracesURL, err := url.JoinPath(endpoint, "v1/traces")
			if err != nil {
				return nil, fmt.Errorf("invalid OTLP endpoint %q: %w", endpoint, err)
			}
			opts = append(opts, otlptracehttp.WithEndpointURL(tracesURL))
		}
		exporter, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("create OTLP HTTP trace exporter: %w", err)
		}
		return exporter, nil
	}
	return nil, fmt.Errorf("unsupported OTLP protocol %q: use %s or %s", protocol, ProtocolHTTPProtobuf, ProtocolGRPC)
}

// newResource describes this process. OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES override the defaults, and a configured service
// name overrides both.
func newResource(ctx context.Context, opts TracingOptions) (*resource.Resource, error) {
	defaults := []resource.Option{
		resource.WithAttributes(semconv.ServiceName(defaultServiceName)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	}
	if opts.ServiceVersion != "" {
		defaults = append(defaults, resource.WithAttributes(semconv.ServiceVersion(opts.ServiceVersion)))
	}
	if opts.ServiceName != "" {
		defaults = append(defaults, resource.WithAttributes(semconv.ServiceName(opts.ServiceName)))
	}
	res, err := resource.New(ctx, defaults...)
	if err != nil {
		return nil, fmt.Errorf("build trace resource: %w", err)
	}
	return res, nil
}

// NewSampler returns the sampler that OTEL_TRACES_SAMPLER calls name, with
// arg as the ratio of the ratio-based ones (default 1).
func NewSampler(name, arg string) (sdktrace.Sampler, error) {
	ratio := 1.0
	if arg != "" {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("invalid sampler argument %q: want a ratio from 0 to 1", arg)
		}
		ratio = r
	}
	switch strings.ToLower(name) {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("unknown sampler %q: use always_on, always_off, traceidratio, "+
		"parentbased_always_on, parentbased_always_off or parentbased_traceidratio", name)
}

// Tracer returns the tracer every Coffer span comes from.
func (t *Tracing) Tracer() trace.Tracer { return t.tracer }

// Propagator returns the W3C trace context and baggage propagator.
func (t *Tracing) Propagator() propagation.TextMapPropagator { return t.propagator }

// Protocol returns the OTLP protocol in use.
func (t *Tracing) Protocol() string { return t.protocol }

// Transport wraps base so that every outgoing request gets a client span
// and carries the caller's trace context in a traceparent header.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
	)
}

// Shutdown sends the spans still buffered and stops the exporter; ctx
// bounds how long that may take.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down trace provider: %w", err)
	}
	return nil
}
