package metadatatest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// lease is the delivery lease the tests take.
const lease = time.Minute

// subscription returns a subscription of origin "api" with the given ID.
func subscription(id string) metadata.Subscription {
	return metadata.Subscription{
		ID: id, Name: "hook " + id, URL: "http://127.0.0.1:1/" + id, Secret: "secret-" + id,
		Types: []string{"tag.created"}, Repositories: []string{"app/*"}, Buckets: []string{},
		Origin: "api", Created: created,
	}
}

// createSubscription stores sub and fails the test on error.
func (e *env) createSubscription(sub metadata.Subscription) {
	e.t.Helper()
	if err := e.store.CreateSubscription(e.ctx, sub); err != nil {
		e.t.Fatalf("CreateSubscription(%s): %v", sub.ID, err)
	}
}

// appendEvents appends one event per subject, with IDs "<subject>-<n>".
func (e *env) appendEvents(subjects ...string) {
	e.t.Helper()
	events := make([]metadata.Event, 0, len(subjects))
	for _, subject := range subjects {
		events = append(events, metadata.Event{
			ID: fmt.Sprintf("%s-%d", subject, eventIDs.Add(1)), Type: "tag.created", Source: "/test",
			Subject: subject, ScopeKind: "repository", ScopeName: "app", Time: created, Data: []byte(`{}`),
		})
	}
	if err := e.store.AppendEvents(e.ctx, events); err != nil {
		e.t.Fatalf("AppendEvents: %v", err)
	}
}

// fanOutTo fans every waiting event out to the given subscription IDs.
func (e *env) fanOutTo(ids ...string) int {
	e.t.Helper()
	n, err := e.store.FanOutEvents(e.ctx, 0, created, func(metadata.Event) []string { return ids })
	if err != nil {
		e.t.Fatalf("FanOutEvents: %v", err)
	}
	return n
}

// claim claims due deliveries at now and returns their event subjects.
func (e *env) claim(owner string, now time.Time) []metadata.Delivery {
	e.t.Helper()
	claimed, err := e.store.ClaimDeliveries(e.ctx, owner, now, lease, 0)
	if err != nil {
		e.t.Fatalf("ClaimDeliveries(%s): %v", owner, err)
	}
	return claimed
}

// subjects returns "subscription:subject" of each delivery.
func subjects(ds []metadata.Delivery) []string {
	out := make([]string, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.SubscriptionID+":"+d.Event.Subject)
	}
	return out
}

// finish records an attempt's outcome and fails the test on error.
func (e *env) finish(owner string, d metadata.Delivery, status string, next time.Time) {
	e.t.Helper()
	r := metadata.AttemptResult{DeliveryID: d.ID, Status: status, NextAttempt: next, LastError: "status 500", ResponseCode: 500}
	if status == metadata.DeliveryDelivered {
		r.LastError, r.ResponseCode = "", 204
	}
	if err := e.store.FinishAttempt(e.ctx, owner, created, r); err != nil {
		e.t.Fatalf("FinishAttempt(%d, %s): %v", d.ID, status, err)
	}
}

func testSubscriptionLifecycle(e *env) {
	a, b := subscription("b-hook"), subscription("a-hook")
	e.createSubscription(a)
	e.createSubscription(b)
	err := e.store.CreateSubscription(e.ctx, a)
	e.wantError("CreateSubscription twice", err, metadata.ErrAlreadyExists)

	got, err := e.store.GetSubscription(e.ctx, a.ID)
	if err != nil {
		e.t.Fatalf("GetSubscription: %v", err)
	}
	if got.ID != a.ID || got.Name != a.Name || got.URL != a.URL || got.Secret != a.Secret || got.Origin != "api" ||
		!slices.Equal(got.Types, a.Types) || !slices.Equal(got.Repositories, a.Repositories) ||
		len(got.Buckets) != 0 || !got.Created.Equal(created) {
		e.t.Errorf("GetSubscription = %+v, want %+v", got, a)
	}

	page, err := e.store.ListSubscriptions(e.ctx, "", 1)
	if err != nil || len(page) != 1 || page[0].ID != "a-hook" {
		e.t.Fatalf("ListSubscriptions first page = %v, %v; want [a-hook]", page, err)
	}
	page, err = e.store.ListSubscriptions(e.ctx, "a-hook", 0)
	if err != nil || len(page) != 1 || page[0].ID != "b-hook" {
		e.t.Fatalf("ListSubscriptions after a-hook = %v, %v; want [b-hook]", page, err)
	}

	if err := e.store.DeleteSubscription(e.ctx, a.ID); err != nil {
		e.t.Fatalf("DeleteSubscription: %v", err)
	}
	_, err = e.store.GetSubscription(e.ctx, a.ID)
	e.wantNotFound("GetSubscription after deleting", err)
	e.wantNotFound("DeleteSubscription twice", e.store.DeleteSubscription(e.ctx, a.ID))
}

func testReplaceConfigSubscriptions(e *env) {
	e.createSubscription(subscription("api-hook"))
	keep, drop := subscription("cfg-keep"), subscription("cfg-drop")
	if err := e.store.ReplaceConfigSubscriptions(e.ctx, []metadata.Subscription{keep, drop}); err != nil {
		e.t.Fatalf("ReplaceConfigSubscriptions: %v", err)
	}
	keep.URL = "http://127.0.0.1:2/changed"
	if err := e.store.ReplaceConfigSubscriptions(e.ctx, []metadata.Subscription{keep}); err != nil {
		e.t.Fatalf("ReplaceConfigSubscriptions again: %v", err)
	}

	subs, err := e.store.ListSubscriptions(e.ctx, "", 0)
	if err != nil {
		e.t.Fatalf("ListSubscriptions: %v", err)
	}
	var got []string
	for _, s := range subs {
		got = append(got, s.ID+" "+s.Origin+" "+s.URL)
	}
	want := []string{"api-hook api http://127.0.0.1:1/api-hook", "cfg-keep config http://127.0.0.1:2/changed"}
	if !slices.Equal(got, want) {
		e.t.Errorf("subscriptions = %q, want %q", got, want)
	}

	err = e.store.ReplaceConfigSubscriptions(e.ctx, []metadata.Subscription{subscription("api-hook")})
	e.wantError("ReplaceConfigSubscriptions over an API subscription", err, metadata.ErrAlreadyExists)
}

func testDeliveriesInOrderPerSubject(e *env) {
	e.createSubscription(subscription("one"))
	e.appendEvents("x", "x", "y")
	if n := e.fanOutTo("one", "deleted-hook"); n != 3 {
		e.t.Fatalf("FanOutEvents took %d events, want 3", n)
	}
	if n := e.fanOutTo("one"); n != 0 {
		e.t.Fatalf("second FanOutEvents took %d events, want 0", n)
	}

	first := e.claim("replica-a", created)
	if got, want := subjects(first), []string{"one:x", "one:y"}; !slices.Equal(got, want) {
		e.t.Fatalf("first claim = %q, want %q", got, want)
	}
	if again := e.claim("replica-b", created); len(again) != 0 {
		e.t.Fatalf("claim while leased = %q, want none", subjects(again))
	}

	retryAt := created.Add(time.Hour)
	e.finish("replica-a", first[0], metadata.DeliveryPending, retryAt)
	e.finish("replica-a", first[1], metadata.DeliveryDelivered, created)
	if early := e.claim("replica-b", created); len(early) != 0 {
		e.t.Fatalf("claim before the retry is due = %q, want none, because x waits for its retry", subjects(early))
	}
	retry := e.claim("replica-b", retryAt)
	if len(retry) != 1 || retry[0].ID != first[0].ID || retry[0].Attempts != 1 || retry[0].ResponseCode != 500 {
		e.t.Fatalf("claim at the retry time = %+v, want delivery %d after 1 attempt with status 500", retry, first[0].ID)
	}
	e.finish("replica-b", retry[0], metadata.DeliveryDead, retryAt)
	next := e.claim("replica-b", retryAt)
	if len(next) != 1 || next[0].Event.Subject != "x" || next[0].Event.Seq <= first[0].Event.Seq {
		e.t.Fatalf("claim after the dead letter = %+v, want the second x event", next)
	}
}

func testDeliveryLeaseExpires(e *env) {
	e.createSubscription(subscription("one"))
	e.appendEvents("x")
	e.fanOutTo("one")
	a := e.claim("replica-a", created)
	b := e.claim("replica-b", created.Add(lease))
	if len(a) != 1 || len(b) != 1 || a[0].ID != b[0].ID || a[0].Event.ID != b[0].Event.ID {
		e.t.Fatalf("claims = %+v and %+v, want the same delivery after the lease expired", a, b)
	}
	err := e.store.FinishAttempt(e.ctx, "replica-a", created, metadata.AttemptResult{DeliveryID: a[0].ID, Status: metadata.DeliveryDelivered})
	e.wantConflict("FinishAttempt after losing the lease", err)
	e.finish("replica-b", b[0], metadata.DeliveryDelivered, created)
}

func testDeliveryLogAndRedeliver(e *env) {
	e.createSubscription(subscription("one"))
	e.createSubscription(subscription("two"))
	e.appendEvents("x", "y", "z")
	e.fanOutTo("one", "two")
	for _, d := range e.claim("replica-a", created) {
		e.finish("replica-a", d, metadata.DeliveryDead, created)
	}

	page, err := e.store.ListDeliveries(e.ctx, "one", 0, 2)
	if err != nil {
		e.t.Fatalf("ListDeliveries: %v", err)
	}
	if got, want := subjects(page), []string{"one:z", "one:y"}; !slices.Equal(got, want) {
		e.t.Fatalf("ListDeliveries first page = %q, want %q (newest first)", got, want)
	}
	rest, err := e.store.ListDeliveries(e.ctx, "one", page[1].ID, 0)
	if err != nil {
		e.t.Fatalf("ListDeliveries after %d: %v", page[1].ID, err)
	}
	if got, want := subjects(rest), []string{"one:x"}; !slices.Equal(got, want) {
		e.t.Fatalf("ListDeliveries second page = %q, want %q", got, want)
	}
	dead := rest[0]
	if dead.Status != metadata.DeliveryDead || dead.Attempts != 1 || dead.LastError != "status 500" {
		e.t.Errorf("dead delivery = %+v, want status dead after 1 attempt with error %q", dead, "status 500")
	}

	_, err = e.store.GetDelivery(e.ctx, "two", dead.ID)
	e.wantNotFound("GetDelivery of another subscription", err)
	_, err = e.store.Redeliver(e.ctx, "two", dead.ID, created)
	e.wantNotFound("Redeliver of another subscription", err)
	again, err := e.store.Redeliver(e.ctx, "one", dead.ID, created)
	if err != nil {
		e.t.Fatalf("Redeliver: %v", err)
	}
	if again.Status != metadata.DeliveryPending || again.Attempts != 0 || again.LastError != "" || again.Event.ID != dead.Event.ID {
		e.t.Errorf("Redeliver = %+v, want pending with 0 attempts and event %s", again, dead.Event.ID)
	}
	if got := e.claim("replica-a", created); len(got) != 1 || got[0].ID != dead.ID {
		e.t.Errorf("claim after Redeliver = %+v, want delivery %d", got, dead.ID)
	}

	if err := e.store.DeleteSubscription(e.ctx, "one"); err != nil {
		e.t.Fatalf("DeleteSubscription: %v", err)
	}
	gone, err := e.store.ListDeliveries(e.ctx, "one", 0, 0)
	if err != nil || len(gone) != 0 {
		e.t.Errorf("ListDeliveries after deleting the subscription = %d deliveries, %v; want none", len(gone), err)
	}
}

func testPruneEvents(e *env) {
	e.createSubscription(subscription("one"))
	e.appendEvents("x", "y")
	e.fanOutTo("one")
	claimed := e.claim("replica-a", created)
	e.finish("replica-a", claimed[0], metadata.DeliveryDelivered, created)
	e.appendEvents("z")

	n, err := e.store.PruneEvents(e.ctx, created.Add(time.Hour), 0)
	if err != nil {
		e.t.Fatalf("PruneEvents: %v", err)
	}
	if n != 1 {
		e.t.Errorf("PruneEvents deleted %d events, want 1 (only x is delivered and fanned out)", n)
	}
	lines := e.outboxLines()
	if want := []string{"tag.created y", "tag.created z"}; !slices.Equal(lines, want) {
		e.t.Errorf("outbox after pruning = %q, want %q", lines, want)
	}
}

func testConcurrentClaims(e *env) {
	e.createSubscription(subscription("one"))
	subjectsToSend := make([]string, 40)
	for i := range subjectsToSend {
		subjectsToSend[i] = fmt.Sprintf("s%02d", i)
	}
	e.appendEvents(subjectsToSend...)
	e.fanOutTo("one")

	var (
		mu   sync.Mutex
		seen = map[int64]string{}
		wg   sync.WaitGroup
	)
	for r := range 4 {
		owner := fmt.Sprintf("replica-%d", r)
		wg.Go(func() {
			for range 20 {
				claimed, err := e.store.ClaimDeliveries(e.ctx, owner, created, lease, 3)
				if err != nil {
					e.t.Errorf("ClaimDeliveries(%s): %v", owner, err)
					return
				}
				mu.Lock()
				for _, d := range claimed {
					if other, dup := seen[d.ID]; dup {
						e.t.Errorf("delivery %d claimed by %s and %s", d.ID, other, owner)
					}
					seen[d.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(subjectsToSend) {
		e.t.Errorf("claimed %d deliveries in all, want %d", len(seen), len(subjectsToSend))
	}
}
