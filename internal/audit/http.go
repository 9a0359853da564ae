package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// ErrQueueFull reports an event the http sink dropped because its queue
// was full, which happens while the collector is down or slower than the
// server.
var ErrQueueFull = errors.New("audit http sink queue is full")

// HTTPSinkOptions configure an HTTPSink.
type HTTPSinkOptions struct {
	// URL receives batches of events as POST requests with
	// Content-Type application/x-ndjson: one JSON event per line.
	URL string
	// Timeout bounds one POST.
	Timeout time.Duration
	// QueueSize is the number of events held while the collector is
	// unreachable.
	QueueSize int
	// BatchSize is the largest number of events in one POST.
	BatchSize int
	// RetryDelay is the pause after a failed POST before the batch is sent
	// again.
	RetryDelay time.Duration
	Client     *http.Client
	Logger     *slog.Logger
}

// HTTPSink sends events to a collector over HTTP. Write only queues the
// event, so a slow collector does not slow requests down. A background
// goroutine posts batches in order and retries a failed batch until the
// collector accepts it (any 2xx status) or the sink is closed. Write fails
// with ErrQueueFull when the queue is full.
type HTTPSink struct {
	opts  HTTPSinkOptions
	queue chan []byte
	done  chan struct{}
	stop  context.CancelFunc
}

// NewHTTPSink starts the sender and returns the sink.
func NewHTTPSink(opts HTTPSinkOptions) *HTTPSink {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &HTTPSink{opts: opts, queue: make(chan []byte, opts.QueueSize), done: make(chan struct{}), stop: stop}
	go s.run(ctx)
	return s
}

// Name implements Sink.
func (s *HTTPSink) Name() string { return "http" }

// Write queues a copy of line.
func (s *HTTPSink) Write(ctx context.Context, line []byte) error {
	select {
	case s.queue <- bytes.Clone(line):
		return nil
	default:
		return ErrQueueFull
	}
}

// Close stops taking events and sends what is queued until ctx ends.
func (s *HTTPSink) Close(ctx context.Context) error {
	close(s.queue)
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		s.stop()
		<-s.done
		return fmt.Errorf("deliver queued audit events to %s: %w", s.opts.URL, ctx.Err())
	}
}

func (s *HTTPSink) run(ctx context.Context) {
	defer close(s.done)
	for line := range s.queue {
		batch, closed := s.fill(line)
		if !s.deliver(ctx, batch) || closed {
			return
		}
	}
}

// fill appends queued events to first, up to BatchSize events, without
// waiting. closed reports that the queue was closed and is now empty.
func (s *HTTPSink) fill(first []byte) (batch []byte, closed bool) {
	batch = first
	for n := 1; n < s.opts.BatchSize; n++ {
		select {
		case more, ok := <-s.queue:
			if !ok {
				return batch, true
			}
			batch = append(batch, more...)
		default:
			return batch, false
		}
	}
	return batch, false
}

// deliver posts batch until the collector accepts it; it returns false
// when ctx ended first.
func (s *HTTPSink) deliver(ctx context.Context, batch []byte) bool {
	for {
		err := s.post(ctx, batch)
		if err == nil {
			return true
		}
		s.opts.Logger.Warn("audit event delivery failed", "url", s.opts.URL, "error", err, "retry_in", s.opts.RetryDelay)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(s.opts.RetryDelay):
		}
	}
}

func (s *HTTPSink) post(ctx context.Context, batch []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(batch))
	if err != nil {
		return fmt.Errorf("build audit request to %s: %w", s.opts.URL, err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post audit events to %s: %w", s.opts.URL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post audit events to %s: status %s", s.opts.URL, resp.Status)
	}
	return nil
}
