package traced

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/storagetest"
)

// newDriver returns a traced memory driver and the recorder of its spans.
func newDriver(t *testing.T) (*Driver, *tracetest.SpanRecorder) {
	t.Helper()
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	t.Cleanup(func() { _ = provider.Shutdown(t.Context()) })
	return New(memory.New(), provider.Tracer("test")), recorder
}

func TestDriverContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver {
		d, _ := newDriver(t)
		return d
	})
}

func TestDriverSpansParentAndNames(t *testing.T) {
	d, recorder := newDriver(t)
	provider := sdktrace.NewTracerProvider()
	ctx, parent := provider.Tracer("test").Start(t.Context(), "request")

	w, err := d.Writer(ctx, "uploads/a", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write([]byte("content")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := d.Move(ctx, "uploads/a", "blobs/a"); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if _, err := d.Stat(ctx, "blobs/a"); err != nil {
		t.Fatalf("Stat: %v", err)
	}
	parent.End()

	spans := recorder.Ended()
	want := []string{spanWriter, spanCommit, spanMove, spanStat}
	if len(spans) != len(want) {
		t.Fatalf("got %d spans, want %d (%v)", len(spans), len(want), want)
	}
	for i, span := range spans {
		if span.Name() != want[i] {
			t.Errorf("span %d is %q, want %q", i, span.Name(), want[i])
		}
		if span.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %q has parent %s, want the request span %s", span.Name(), span.Parent().SpanID(), parent.SpanContext().SpanID())
		}
		if span.Status().Code != codes.Unset {
			t.Errorf("span %q has status %v, want unset", span.Name(), span.Status())
		}
	}
}

// requestContext returns a context with a span, as a request handler's is.
func requestContext(t *testing.T) context.Context {
	t.Helper()
	ctx, span := sdktrace.NewTracerProvider().Tracer("test").Start(t.Context(), "request")
	t.Cleanup(func() { span.End() })
	return ctx
}

func TestDriverNotFoundIsNoSpanError(t *testing.T) {
	d, recorder := newDriver(t)

	_, err := d.Stat(requestContext(t), "blobs/missing")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat of a missing key: error = %v, want ErrNotFound", err)
	}
	span := recorder.Ended()[0]
	if span.Status().Code != codes.Unset {
		t.Errorf("status = %v, want unset for a missing key", span.Status())
	}
	found := false
	for _, attr := range span.Attributes() {
		if attr.Key == notFoundAttribute && attr.Value.AsBool() {
			found = true
		}
	}
	if !found {
		t.Errorf("attributes %v lack %s=true", span.Attributes(), notFoundAttribute)
	}
}

func TestDriverWithoutParentRecordsNothing(t *testing.T) {
	d, recorder := newDriver(t)

	if _, err := d.Stat(t.Context(), "blobs/missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat of a missing key: error = %v, want ErrNotFound", err)
	}
	if spans := recorder.Ended(); len(spans) != 0 {
		t.Errorf("a call without a span in its context recorded %d spans, want 0", len(spans))
	}
}

func TestDriverErrorMarksSpan(t *testing.T) {
	d, recorder := newDriver(t)

	_, err := d.Stat(requestContext(t), "../escape")
	if !errors.Is(err, storage.ErrInvalidKey) {
		t.Fatalf("Stat of an invalid key: error = %v, want ErrInvalidKey", err)
	}
	span := recorder.Ended()[0]
	if span.Status().Code != codes.Error || !strings.Contains(span.Status().Description, "invalid storage key") {
		t.Errorf("status = %v, want an error naming the invalid key", span.Status())
	}
}
