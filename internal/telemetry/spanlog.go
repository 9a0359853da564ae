package telemetry

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// spanHandler adds trace_id and span_id to every record logged with a
// context that carries a valid span, so that a log line leads to its trace.
type spanHandler struct {
	slog.Handler
}

// withSpanIDs wraps h with the trace and span ID fields.
func withSpanIDs(h slog.Handler) slog.Handler { return spanHandler{Handler: h} }

func (h spanHandler) Handle(ctx context.Context, record slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		record.AddAttrs(
			slog.String("trace_id", sc.TraceID().String()),
			slog.String("span_id", sc.SpanID().String()),
		)
	}
	return h.Handler.Handle(ctx, record)
}

func (h spanHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return spanHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h spanHandler) WithGroup(name string) slog.Handler {
	return spanHandler{Handler: h.Handler.WithGroup(name)}
}
