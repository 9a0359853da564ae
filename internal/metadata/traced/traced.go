// Package traced wraps a metadata.Store and records an OpenTelemetry span
// for every call but Ping and Close, as a child of the span in the call's
// context. A call whose context carries no span gets none, so that it
// starts no trace of its own. With an observer set, it also reports the
// duration and error of every such call, for metrics. Results and errors
// pass through unchanged.
package traced

import (
	"context"
	"errors"
	"strings"
	"time"

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
	next metadata.Store
	// tracer is nil when only an observer is set.
	tracer  trace.Tracer
	system  attribute.KeyValue
	observe Observer
}

// Observer receives the method name (such as "GetManifest"), the time
// taken and the error of every call but Ping and Close.
type Observer func(operation string, elapsed time.Duration, err error)

var _ metadata.Store = (*Store)(nil)

// New wraps next. system is the db.system.name of the backend, such as
// "sqlite" or "postgresql".
// A nil tracer records no spans, for a store that only reports to an
// observer.
func New(next metadata.Store, tracer trace.Tracer, system string) *Store {
	return &Store{next: next, tracer: tracer, system: semconv.DBSystemNameKey.String(system)}
}

// WithObserver makes s report every call to observe, and returns s.
func (s *Store) WithObserver(observe Observer) *Store {
	s.observe = observe
	return s
}

// Ping returns the wrapped store's Ping, without a span, because health
// probes call it every few seconds.
func (s *Store) Ping(ctx context.Context) error { return s.next.Ping(ctx) }

// Close closes the wrapped store.
func (s *Store) Close() error { return s.next.Close() }

// call is one call in progress: its span and what the observer needs.
type call struct {
	span    trace.Span
	name    string
	began   time.Time
	observe Observer
}

// start begins a client span named name, which starts with spanPrefix,
// unless the store has no tracer or the context no span; then the call
// gets a no-op span.
func (s *Store) start(ctx context.Context, name string) (context.Context, call) {
	c := call{name: name, observe: s.observe}
	if s.observe != nil {
		c.began = time.Now()
	}
	if s.tracer == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		c.span = trace.SpanFromContext(context.Background())
		return ctx, c
	}
	ctx, c.span = s.tracer.Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, semconv.DBOperationName(strings.TrimPrefix(name, spanPrefix))),
	)
	return ctx, c
}

// expectedErrors are the store's ordinary results, which callers turn
// into 404, 409 or 412 responses.
var expectedErrors = []error{
	metadata.ErrNotFound, metadata.ErrConflict, metadata.ErrAlreadyExists,
	metadata.ErrNotEmpty, metadata.ErrPreconditionFailed,
}

// end reports the call to the observer, records err on the span and ends
// it.
func (c call) end(err error) {
	if c.observe != nil {
		c.observe(strings.TrimPrefix(c.name, spanPrefix), time.Since(c.began), err)
	}
	if err != nil {
		recordError(c.span, err)
	}
	c.span.End()
}

// IsExpected reports whether err is one of the store's ordinary results,
// such as not found, rather than a failure.
func IsExpected(err error) bool {
	for _, expected := range expectedErrors {
		if errors.Is(err, expected) {
			return true
		}
	}
	var missing *metadata.MissingReferenceError
	return errors.As(err, &missing)
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
