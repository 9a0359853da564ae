// Package telemetry sets up logging and carries the per-request logger.
//
// Logging policy: messages are constant lowercase phrases; every variable
// part is a structured field. Secrets (passwords, tokens, signatures) are
// never logged.
package telemetry

import (
	"context"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns a logger writing to w in format "json" or "text" at
// the named level ("debug", "info", "warn", "error"). A record logged with a
// context that carries a span gets the trace_id and span_id fields.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		lvl = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(withSpanIDs(slog.NewJSONHandler(w, opts)))
	}
	return slog.New(withSpanIDs(slog.NewTextHandler(w, opts)))
}

type loggerKey struct{}

// WithLogger returns a context that carries logger.
func WithLogger(ctx context.Context, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, logger)
}

// Logger returns the logger carried by ctx, which the HTTP middleware
// tags with the request ID, or slog.Default when there is none.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
