package server

import (
	"context"
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/trace"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/storage"
	storagetraced "github.com/cofferhq/coffer/internal/storage/traced"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// tracingSubsystem owns the OpenTelemetry trace pipeline when
// tracing.enabled is set. It starts first and stops last, so that its
// Stop sends the spans of the requests that the listeners drained. A nil
// *tracingSubsystem or one that is off adds no span anywhere.
type tracingSubsystem struct {
	cfg     config.Tracing
	logger  *slog.Logger
	tracing *telemetry.Tracing
}

func (t *tracingSubsystem) Name() string    { return "tracing" }
func (t *tracingSubsystem) Validate() error { return nil } // config.Validate covers the tracing keys

func (t *tracingSubsystem) Start(ctx context.Context) error {
	if !t.cfg.Enabled {
		return nil
	}
	tracing, err := telemetry.NewTracing(ctx, telemetry.TracingOptions{
		Endpoint: t.cfg.Endpoint, Protocol: t.cfg.Protocol,
		Sampler: t.cfg.Sampler, SamplerArg: t.cfg.SamplerArg,
		ServiceName: t.cfg.ServiceName, ServiceVersion: Version,
	})
	if err != nil {
		return err
	}
	t.tracing = tracing
	t.logger.Info("tracing enabled", "protocol", tracing.Protocol(), "endpoint", t.cfg.Endpoint)
	return nil
}

// Stop sends the spans still buffered; ctx bounds how long that may take.
func (t *tracingSubsystem) Stop(ctx context.Context) error {
	if t.tracing == nil {
		return nil
	}
	return t.tracing.Shutdown(ctx)
}

func (t *tracingSubsystem) Health(ctx context.Context) error { return nil }

// enabled reports whether spans are recorded.
func (t *tracingSubsystem) enabled() bool { return t != nil && t.tracing != nil }

// handler wraps next with the server span middleware, or returns next
// when tracing is off.
func (t *tracingSubsystem) handler(next http.Handler) http.Handler {
	if !t.enabled() {
		return next
	}
	return middleware.Tracing(t.tracing.Tracer(), t.tracing.Propagator(), next)
}

// storage wraps a storage driver with spans when tracing is on.
func (t *tracingSubsystem) storage(d storage.Driver) storage.Driver {
	if !t.enabled() {
		return d
	}
	return storagetraced.New(d, t.tracing.Tracer())
}

// metadataTracer returns the tracer of metadata store spans, or nil when
// tracing is off.
func (t *tracingSubsystem) metadataTracer() trace.Tracer {
	if !t.enabled() {
		return nil
	}
	return t.tracing.Tracer()
}

// transport returns a wrapper that adds client spans and the traceparent
// header to outgoing requests, or nil when tracing is off.
func (t *tracingSubsystem) transport() func(http.RoundTripper) http.RoundTripper {
	if !t.enabled() {
		return nil
	}
	return t.tracing.Transport
}

// background starts the root span of one run of a background task, such
// as a garbage collection, so that the storage and metadata spans of the
// run share one trace. When tracing is off it returns ctx and an end
// function that does nothing.
func (t *tracingSubsystem) background(ctx context.Context, name string) (context.Context, func()) {
	if !t.enabled() {
		return ctx, func() {}
	}
	ctx, span := t.tracing.Tracer().Start(ctx, name, trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, func() { span.End() }
}

// routed reports the http.ServeMux pattern that served a request as the
// route of its server span. It works because ServeMux stores the pattern
// in the request it receives.
func routed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Pattern != "" {
			middleware.SetRoute(r, r.Pattern)
		}
	})
}
