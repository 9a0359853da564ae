package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/events"
	"github.com/cofferhq/coffer/internal/metadata"
)

// countingReceiver records every event it receives, duplicates included.
type countingReceiver struct {
	mu       sync.Mutex
	received []events.Envelope
}

func (c *countingReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var e events.Envelope
	_ = json.Unmarshal(body, &e)
	c.mu.Lock()
	c.received = append(c.received, e)
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (c *countingReceiver) snapshot() []events.Envelope {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.received)
}

// TestTwoReplicasDeliverOnce runs two dispatchers, each with its own
// connection pool, over one schema, as two cofferd replicas on one
// database do, and checks that every event arrives once and in order per
// subject.
func TestTwoReplicasDeliverOnce(t *testing.T) {
	url := newSchema(t)
	var replicas []*Store
	for range 2 {
		s, err := Open(t.Context(), url)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		replicas = append(replicas, s)
	}
	recv := &countingReceiver{}
	hook := httptest.NewServer(recv)
	t.Cleanup(hook.Close)
	sub := metadata.Subscription{ID: "hook", Name: "hook", URL: hook.URL, Secret: "0123456789abcdef", Origin: "api"}
	if err := replicas[0].CreateSubscription(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}

	var appended []metadata.Event
	for i := range 60 {
		appended = append(appended, metadata.Event{
			ID: fmt.Sprintf("event-%02d", i), Type: events.TypeTagMoved, Source: "/v2/app",
			Subject: fmt.Sprintf("app:tag-%d", i%6), ScopeKind: events.ScopeRepository, ScopeName: "app",
			Time: time.Now(), Data: []byte(`{}`),
		})
	}
	if err := replicas[1].AppendEvents(t.Context(), appended); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}

	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(t.Context())
	for i, store := range replicas {
		d := events.NewDispatcher(store, events.Options{
			Owner: fmt.Sprintf("replica-%d", i), PollInterval: 10 * time.Millisecond, Lease: 10 * time.Minute, Batch: 4,
		})
		wg.Go(func() { d.Run(ctx) })
	}
	deadline := time.Now().Add(time.Minute)
	for len(recv.snapshot()) < len(appended) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	got := recv.snapshot()
	counts := map[string]int{}
	bySubject := map[string][]string{}
	for _, e := range got {
		counts[e.ID]++
		bySubject[e.Subject] = append(bySubject[e.Subject], e.ID)
	}
	for _, e := range appended {
		if counts[e.ID] != 1 {
			t.Errorf("event %s arrived %d times, want once", e.ID, counts[e.ID])
		}
	}
	for subject, ids := range bySubject {
		if !slices.IsSorted(ids) {
			t.Errorf("events of %s arrived as %q, want outbox order", subject, ids)
		}
	}
}
