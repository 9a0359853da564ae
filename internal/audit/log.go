package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Sink stores or forwards encoded events. Write receives one JSON line
// that ends with a newline. The Log calls it with its lock held, so a sink
// receives the events of its chain in sequence order.
type Sink interface {
	// Name labels the sink in errors and metrics: "file", "stdout" or "http".
	Name() string
	Write(ctx context.Context, line []byte) error
	Close(ctx context.Context) error
}

// SinkFailure is called once per failed sink write, for metrics.
type SinkFailure func(sink string, err error)

// Log numbers events, chains them by hash and writes each to every sink.
type Log struct {
	mu       sync.Mutex
	seq      uint64
	prevHash string
	sinks    []Sink
	onFail   SinkFailure
	closed   bool
}

// ErrClosed reports a write after Close.
var ErrClosed = errors.New("audit log is closed")

// Position is the last written sequence number and hash of a chain, from
// which it continues; zero for a new chain.
type Position struct {
	Seq  uint64
	Hash string
}

// NewLog returns a Log that continues the chain after start and writes to
// sinks. onFail, when not nil, is called for every failed sink write.
func NewLog(start Position, onFail SinkFailure, sinks ...Sink) *Log {
	return &Log{seq: start.Seq, prevHash: start.Hash, sinks: sinks, onFail: onFail}
}

// Write assigns ev the next sequence number and the previous hash, and
// writes it to every sink. It returns an error when any sink failed. The
// chain advances even then, so a sink that lost the event shows a gap in
// the sequence numbers that "cofferd audit verify" reports.
func (l *Log) Write(ctx context.Context, ev Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	ev.Seq = l.seq + 1
	ev.PrevHash = l.prevHash
	line, err := encode(&ev)
	if err != nil {
		return err
	}
	l.seq, l.prevHash = ev.Seq, ev.Hash
	line = append(line, '\n')

	var errs []error
	for _, s := range l.sinks {
		if err := s.Write(ctx, line); err != nil {
			errs = append(errs, fmt.Errorf("audit sink %s: %w", s.Name(), err))
			if l.onFail != nil {
				l.onFail(s.Name(), err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink; the http sink first tries to deliver the
// events it still holds until ctx ends.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, s := range l.sinks {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close audit sink %s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}
