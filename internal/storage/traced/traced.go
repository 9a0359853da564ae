// Package traced wraps any storage.Driver and records an OpenTelemetry
// span for every call, as a child of the span in the call's context. A call
// whose context carries no span, such as the health check of /readyz, gets
// none, so that it starts no trace of its own. The wrapped driver's
// behaviour and errors pass through unchanged.
package traced

import (
	"context"
	"errors"
	"io"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/cofferhq/coffer/internal/storage"
)

// Span names, one per call. Reader and Writer spans cover opening the
// stream, not the bytes that stream afterwards.
const (
	spanReader = "storage.Reader"
	spanStat   = "storage.Stat"
	spanWriter = "storage.Writer"
	spanCommit = "storage.Commit"
	spanCancel = "storage.Cancel"
	spanMove   = "storage.Move"
	spanDelete = "storage.Delete"
	spanWalk   = "storage.Walk"
)

// Span attributes.
const (
	driverAttribute = attribute.Key("coffer.storage.driver")
	keyAttribute    = attribute.Key("coffer.storage.key")
	// sourceKeyAttribute is the key that Move renames; keyAttribute is its destination.
	sourceKeyAttribute = attribute.Key("coffer.storage.source_key")
	// notFoundAttribute marks a call that returned storage.ErrNotFound. That
	// is an ordinary result (a HEAD of a missing blob), not a span error.
	notFoundAttribute = attribute.Key("coffer.storage.not_found")
)

// Driver is a storage.Driver that records a span around every call of
// another one.
type Driver struct {
	next   storage.Driver
	tracer trace.Tracer
	driver attribute.KeyValue
}

var _ storage.Driver = (*Driver)(nil)

// New wraps next; its spans come from tracer.
func New(next storage.Driver, tracer trace.Tracer) *Driver {
	return &Driver{next: next, tracer: tracer, driver: driverAttribute.String(next.Name())}
}

// Name returns the wrapped driver's name.
func (d *Driver) Name() string { return d.next.Name() }

// start begins a client span of one call on key, or returns the no-op span
// of a context without a span.
func (d *Driver) start(ctx context.Context, name, key string) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return d.tracer.Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(d.driver, keyAttribute.String(key)),
	)
}

// end records err on span and ends it.
func end(span trace.Span, err error) {
	switch {
	case err == nil:
	case errors.Is(err, storage.ErrNotFound):
		span.SetAttributes(notFoundAttribute.Bool(true))
	default:
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Reader returns the wrapped driver's Reader.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	ctx, span := d.start(ctx, spanReader, key)
	rc, err := d.next.Reader(ctx, key, offset)
	end(span, err)
	return rc, err
}

// Stat returns the wrapped driver's Stat.
func (d *Driver) Stat(ctx context.Context, key string) (storage.Info, error) {
	ctx, span := d.start(ctx, spanStat, key)
	info, err := d.next.Stat(ctx, key)
	end(span, err)
	return info, err
}

// Writer opens key for writing; the returned writer records spans around
// Commit and Cancel.
func (d *Driver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	return d.openWriter(ctx, key, func(ctx context.Context) (storage.Writer, error) {
		return d.next.Writer(ctx, key, offset)
	})
}

// SizedWriter opens key for content of size bytes through the wrapped
// driver's SizedWriter, where it has one, with the same spans as Writer.
func (d *Driver) SizedWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	return d.openWriter(ctx, key, func(ctx context.Context) (storage.Writer, error) {
		return storage.NewWriter(ctx, d.next, key, size)
	})
}

// TempWriter opens the temporary key through the wrapped driver's
// TempWriter, where it has one, with the same spans as Writer.
func (d *Driver) TempWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	return d.openWriter(ctx, key, func(ctx context.Context) (storage.Writer, error) {
		return storage.NewTempWriter(ctx, d.next, key, size)
	})
}

func (d *Driver) openWriter(ctx context.Context, key string, open func(ctx context.Context) (storage.Writer, error)) (storage.Writer, error) {
	spanCtx, span := d.start(ctx, spanWriter, key)
	w, err := open(spanCtx)
	end(span, err)
	if err != nil {
		return nil, err
	}
	return &writer{Writer: w, driver: d, key: key}, nil
}

// Move returns the wrapped driver's Move.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	ctx, span := d.start(ctx, spanMove, dst)
	span.SetAttributes(sourceKeyAttribute.String(src))
	err := d.next.Move(ctx, src, dst)
	end(span, err)
	return err
}

// Delete returns the wrapped driver's Delete.
func (d *Driver) Delete(ctx context.Context, key string) error {
	ctx, span := d.start(ctx, spanDelete, key)
	err := d.next.Delete(ctx, key)
	end(span, err)
	return err
}

// Walk returns the wrapped driver's Walk. The span covers the time fn
// takes, and an error fn returns is recorded as the walk's error.
func (d *Driver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	ctx, span := d.start(ctx, spanWalk, prefix)
	err := d.next.Walk(ctx, prefix, fn)
	end(span, err)
	return err
}

// writer records spans around Commit and Cancel.
type writer struct {
	storage.Writer
	driver *Driver
	key    string
}

func (w *writer) Commit(ctx context.Context) error {
	ctx, span := w.driver.start(ctx, spanCommit, w.key)
	err := w.Writer.Commit(ctx)
	end(span, err)
	return err
}

func (w *writer) Cancel(ctx context.Context) error {
	ctx, span := w.driver.start(ctx, spanCancel, w.key)
	err := w.Writer.Cancel(ctx)
	end(span, err)
	return err
}
