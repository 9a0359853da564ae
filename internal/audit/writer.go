package audit

import (
	"context"
	"fmt"
	"io"
)

// WriterSink writes events to a stream such as standard output, one JSON
// line each, for a log collector that reads the container's output.
type WriterSink struct {
	name string
	w    io.Writer
}

// NewWriterSink returns a sink named name that writes to w.
func NewWriterSink(name string, w io.Writer) *WriterSink {
	return &WriterSink{name: name, w: w}
}

// Name implements Sink.
func (s *WriterSink) Name() string { return s.name }

// Write implements Sink.
func (s *WriterSink) Write(ctx context.Context, line []byte) error {
	if _, err := s.w.Write(line); err != nil {
		return fmt.Errorf("write audit event to %s: %w", s.name, err)
	}
	return nil
}

// Close implements Sink; the stream stays open.
func (s *WriterSink) Close(ctx context.Context) error { return nil }
