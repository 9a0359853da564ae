// Package traced wraps a metadata.Store and records an OpenTelemetry span
// for every call but Ping and Close, as a child of the span in the call's
// context. A call whose context carries no span gets none, so that it
// starts no trace of its own. Results and errors pass through unchanged.
package traced

import (
	"context"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cofferhq/coffer/internal/metadata"
)

// spanPrefix starts every span name: "metadata.GetManifest".
const spanPrefix = "metadata."

// resultAttribute names the expected domain error that a call returned,
// such as "not found" or "conflict". Such a call is not marked as a failed
// span.
const resultAttribute = attribute.Key("coffer.metadata.result")

// Store is a metadata.Store that records a span around every call of
// another one.
type Store struct {
	next   metadata.Store
	tracer trace.Tracer
	system attribute.KeyValue
}

var _ metadata.Store = (*Store)(nil)

// New wraps next. system is the db.system.name of the backend, such as
// "sqlite" or "postgresql".
func New(next metadata.Store, tracer trace.Tracer, system string) *Store {
	return &Store{next: next, tracer: tracer, system: semconv.DBSystemNameKey.String(system)}
}

// Ping returns the wrapped store's Ping, without a span, because health
// probes call it every few seconds.
func (s *Store) Ping(ctx context.Context) error { return s.next.Ping(ctx) }

// Close closes the wrapped store.
func (s *Store) Close() error { return s.next.Close() }

// start begins a client span named name, which starts with spanPrefix, or
// returns the no-op span of a context without a span.
func (s *Store) start(ctx context.Context, name string) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return s.tracer.Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, semconv.DBOperationName(strings.TrimPrefix(name, spanPrefix))),
	)
}

// expectedErrors are the store's ordinary results, which callers turn
// into 404, 409 or 412 responses.
var expectedErrors = []error{
	metadata.ErrNotFound, metadata.ErrConflict, metadata.ErrAlreadyExists,
	metadata.ErrNotEmpty, metadata.ErrPreconditionFailed,
}

// end records err on span and ends it.
func end(span trace.Span, err error) {
	if err != nil {
		recordError(span, err)
	}
	span.End()
}

func recordError(span trace.Span, err error) {
	for _, expected := range expectedErrors {
		if errors.Is(err, expected) {
			span.SetAttributes(resultAttribute.String(expected.Error()))
			return
		}
	}
	var missing *metadata.MissingReferenceError
	if errors.As(err, &missing) {
		span.SetAttributes(resultAttribute.String("missing reference"))
		return
	}
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}
