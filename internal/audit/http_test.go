package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// collector is a test server that records the events it receives.
type collector struct {
	mu     sync.Mutex
	events []Event
	// fail is the number of requests still to reject with 503.
	fail int
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail > 0 {
		c.fail--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("Content-Type") != "application/x-ndjson" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	scanner := bufio.NewScanner(r.Body)
	for scanner.Scan() {
		ev, reason := parseLine(scanner.Bytes())
		if reason != "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.events = append(c.events, ev)
	}
}

func TestHTTPSinkDeliversInOrder(t *testing.T) {
	c := &collector{fail: 2}
	srv := httptest.NewServer(c)
	defer srv.Close()
	sink := NewHTTPSink(HTTPSinkOptions{URL: srv.URL, Timeout: 5 * time.Second, QueueSize: 100, BatchSize: 4, RetryDelay: time.Millisecond})
	log := NewLog(Position{}, nil, sink)
	for range 10 {
		if err := log.Write(context.Background(), Event{Protocol: "s3"}); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := log.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) != 10 {
		t.Fatalf("collector got %d events, want 10", len(c.events))
	}
	for i, ev := range c.events {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
}

func TestHTTPSinkQueueFull(t *testing.T) {
	received := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case received <- struct{}{}:
		default:
		}
		<-release
	}))
	defer srv.Close()
	defer close(release)
	sink := NewHTTPSink(HTTPSinkOptions{URL: srv.URL, Timeout: time.Minute, QueueSize: 1, BatchSize: 1, RetryDelay: time.Millisecond})

	if err := sink.Write(context.Background(), []byte("{}\n")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	<-received // the sender holds the first event, so the queue is empty
	if err := sink.Write(context.Background(), []byte("{}\n")); err != nil {
		t.Fatalf("second write: %v", err)
	}
	if err := sink.Write(context.Background(), bytes.Repeat([]byte("x"), 3)); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third write = %v, want ErrQueueFull", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sink.Close(ctx); err == nil {
		t.Fatal("close with a cancelled context and undelivered events returned no error")
	}
}
