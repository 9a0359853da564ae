package traced

import (
	"errors"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/metadatatest"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
)

// newStore returns a traced SQLite store in a temporary directory and the
// recorder of its spans.
func newStore(t *testing.T) (*Store, *tracetest.SpanRecorder) {
	t.Helper()
	inner, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	s := New(inner, provider.Tracer("test"), "sqlite")
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, recorder
}

// TestContract runs the metadata contract suite through the wrapper, so
// that every method is shown to pass its arguments and results through.
func TestContract(t *testing.T) {
	metadatatest.Run(t, func(t *testing.T) metadata.Store {
		s, _ := newStore(t)
		return s
	})
}

func TestStoreSpans(t *testing.T) {
	s, recorder := newStore(t)
	ctx, parent := sdktrace.NewTracerProvider().Tracer("test").Start(t.Context(), "request")

	blob := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte("x")), Size: 1}
	if err := s.LinkBlob(ctx, "team/app", blob); err != nil {
		t.Fatalf("LinkBlob: %v", err)
	}
	_, err := s.GetManifest(ctx, "team/app", blob.Digest)
	if !errors.Is(err, metadata.ErrNotFound) {
		t.Fatalf("GetManifest of a missing manifest: error = %v, want ErrNotFound", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	parent.End()

	spans := recorder.Ended()
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want LinkBlob and GetManifest only (Ping has none)", len(spans))
	}
	for i, want := range []string{"metadata.LinkBlob", "metadata.GetManifest"} {
		span := spans[i]
		if span.Name() != want {
			t.Errorf("span %d is %q, want %q", i, span.Name(), want)
		}
		if span.Parent().SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %q is not a child of the request span", span.Name())
		}
		if span.Status().Code != codes.Unset {
			t.Errorf("span %q has status %v, want unset", span.Name(), span.Status())
		}
	}
	attrs := map[string]string{}
	for _, attr := range spans[1].Attributes() {
		attrs[string(attr.Key)] = attr.Value.Emit()
	}
	want := map[string]string{"db.system.name": "sqlite", "db.operation.name": "GetManifest", "coffer.metadata.result": "not found"}
	for key, value := range want {
		if attrs[key] != value {
			t.Errorf("GetManifest span attribute %s = %q, want %q", key, attrs[key], value)
		}
	}
}

func TestStoreWithoutParentRecordsNothing(t *testing.T) {
	s, recorder := newStore(t)

	_, err := s.GetBucket(t.Context(), "missing")
	if !errors.Is(err, metadata.ErrNotFound) {
		t.Fatalf("GetBucket of a missing bucket: error = %v, want ErrNotFound", err)
	}
	if spans := recorder.Ended(); len(spans) != 0 {
		t.Errorf("a call without a span in its context recorded %d spans, want 0", len(spans))
	}
}
