package events

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// Store is the part of the metadata store that the dispatcher uses.
type Store interface {
	FanOutEvents(ctx context.Context, limit int, now time.Time, match func(metadata.Event) []string) (int, error)
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]metadata.Delivery, error)
	FinishAttempt(ctx context.Context, owner string, now time.Time, r metadata.AttemptResult) error
	ListSubscriptions(ctx context.Context, after string, limit int) ([]metadata.Subscription, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}

// Observer receives the outcome of every delivery attempt, for metrics.
// result is "delivered", "retry" or "dead".
type Observer interface {
	ObserveDelivery(result string, latency time.Duration)
}

// Options configure a Dispatcher. Zero values take the defaults in
// parentheses.
type Options struct {
	// Owner names this replica in delivery leases (a random ID).
	Owner string
	// PollInterval is the pause after a pass that found nothing to do (1s).
	PollInterval time.Duration
	// Lease is how long a claimed delivery stays with this replica; it
	// must exceed Timeout (1m).
	Lease time.Duration
	// Timeout bounds one HTTP request (10s).
	Timeout time.Duration
	// MaxAttempts is the number of attempts before a delivery is dead (10).
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the pause before a retry (1s, 1h).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Retention is how long delivered and dead events are kept (7 days).
	Retention time.Duration
	// Batch is how many deliveries one pass claims (32).
	Batch int
	// Client sends the requests (a client without redirects).
	Client   *http.Client
	Observer Observer
	Logger   *slog.Logger
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	if o.Owner == "" {
		o.Owner = "dispatcher-" + newID()
	}
	o.PollInterval = cmpOr(o.PollInterval, time.Second)
	o.Timeout = cmpOr(o.Timeout, 10*time.Second)
	o.Lease = cmpOr(o.Lease, max(time.Minute, 2*o.Timeout))
	o.MaxAttempts = cmpOr(o.MaxAttempts, 10)
	o.BaseBackoff = cmpOr(o.BaseBackoff, time.Second)
	o.MaxBackoff = cmpOr(o.MaxBackoff, time.Hour)
	o.Retention = cmpOr(o.Retention, 7*24*time.Hour)
	o.Batch = cmpOr(o.Batch, 32)
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// cmpOr returns v, or def when v is zero or negative.
func cmpOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Dispatcher fans outbox events out to subscriptions and delivers them.
// Several replicas may run one each over a shared PostgreSQL store.
type Dispatcher struct {
	store Store
	opts  Options
	// wake makes the next pass start without waiting for PollInterval.
	wake chan struct{}
}

// NewDispatcher returns a dispatcher over store.
func NewDispatcher(store Store, opts Options) *Dispatcher {
	return &Dispatcher{store: store, opts: opts.withDefaults(), wake: make(chan struct{}, 1)}
}

// Wake requests a pass soon, for example after a redelivery request.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done. Errors of the store are logged and the
// pass is tried again after PollInterval.
func (d *Dispatcher) Run(ctx context.Context) {
	lastPrune := time.Time{}
	for ctx.Err() == nil {
		busy, err := d.pass(ctx)
		if err != nil && ctx.Err() == nil {
			d.opts.Logger.Error("webhook dispatch failed", "error", err)
		}
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			d.prune(ctx)
		}
		if busy && err == nil {
			continue
		}
		timer := time.NewTimer(d.opts.PollInterval)
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// pruneBatch is how many events one prune transaction deletes at most.
const pruneBatch = 1000

// prune deletes the events older than the retention whose deliveries are
// finished, in batches, so that no single transaction grows large.
func (d *Dispatcher) prune(ctx context.Context) {
	before := time.Now().Add(-d.opts.Retention)
	for ctx.Err() == nil {
		n, err := d.store.PruneEvents(ctx, before, pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				d.opts.Logger.Error("pruning delivered events failed", "error", err)
			}
			return
		}
		if n < pruneBatch {
			return
		}
	}
}

// pass fans out waiting events, then claims and sends one batch. It
// reports whether it found work, so that Run continues without a pause.
func (d *Dispatcher) pass(ctx context.Context) (bool, error) {
	subs, err := d.store.ListSubscriptions(ctx, "", 0)
	if err != nil {
		return false, err
	}
	fanned, err := d.store.FanOutEvents(ctx, 100, time.Now(), func(e metadata.Event) []string {
		var ids []string
		for _, s := range subs {
			if Matches(s, e) {
				ids = append(ids, s.ID)
			}
		}
		return ids
	})
	if err != nil {
		return false, err
	}

	claimed, err := d.store.ClaimDeliveries(ctx, d.opts.Owner, time.Now(), d.opts.Lease, d.opts.Batch)
	if err != nil {
		return fanned > 0, err
	}
	byID, err := d.subscriptionsOf(ctx, subs, claimed)
	if err != nil {
		return true, err
	}
	// A claimed batch holds at most one delivery per subscription and
	// subject, so its deliveries may go out in parallel.
	var wg sync.WaitGroup
	for _, del := range claimed {
		wg.Go(func() { d.deliver(ctx, byID[del.SubscriptionID], del) })
	}
	wg.Wait()
	return fanned > 0 || len(claimed) > 0, nil
}

// subscriptionsOf maps subscription IDs to subscriptions for the claimed
// deliveries. A subscription created after subs was listed, whose events
// another replica fanned out, is found by listing again.
func (d *Dispatcher) subscriptionsOf(ctx context.Context, subs []metadata.Subscription, claimed []metadata.Delivery) (map[string]metadata.Subscription, error) {
	byID := make(map[string]metadata.Subscription, len(subs))
	for _, s := range subs {
		byID[s.ID] = s
	}
	for _, del := range claimed {
		if _, ok := byID[del.SubscriptionID]; ok {
			continue
		}
		fresh, err := d.store.ListSubscriptions(ctx, "", 0)
		if err != nil {
			return nil, err
		}
		for _, s := range fresh {
			byID[s.ID] = s
		}
		break
	}
	return byID, nil
}

// deliver makes one attempt and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, sub metadata.Subscription, del metadata.Delivery) {
	start := time.Now()
	code, err := d.send(ctx, sub, del)
	latency := time.Since(start)

	r, result := d.outcome(del, code, err, ctx.Err() != nil)
	if d.opts.Observer != nil {
		d.opts.Observer.ObserveDelivery(result, latency)
	}

	// The outcome is recorded even when shutdown begins during the
	// request, so that a delivered event is not sent again.
	recordCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.store.FinishAttempt(recordCtx, d.opts.Owner, time.Now(), r); err != nil {
		d.opts.Logger.Warn("recording a webhook attempt failed", "delivery", del.ID, "error", err)
	}
}

// outcome turns the result of an attempt into the delivery's new state
// and the metrics result: delivered, retry or dead.
func (d *Dispatcher) outcome(del metadata.Delivery, code int, err error, shuttingDown bool) (metadata.AttemptResult, string) {
	r := metadata.AttemptResult{DeliveryID: del.ID, Status: metadata.DeliveryDelivered, ResponseCode: code, NextAttempt: time.Now()}
	if err == nil {
		return r, "delivered"
	}

	r.Status, r.LastError = metadata.DeliveryPending, err.Error()
	if shuttingDown {
		// Shutdown cut the request off. The delivery stays pending and due
		// now, so another replica or the next start sends it again, with
		// the same event id, without waiting for the lease to expire.
		r.LastError = "interrupted by shutdown: " + r.LastError
		return r, "retry"
	}
	attempts := del.Attempts + 1
	if attempts >= d.opts.MaxAttempts {
		r.Status = metadata.DeliveryDead
		d.opts.Logger.Warn("webhook delivery dead", "subscription", del.SubscriptionID, "delivery", del.ID,
			"event_id", del.Event.ID, "attempts", attempts, "error", err)
		return r, "dead"
	}
	r.NextAttempt = time.Now().Add(Backoff(attempts, d.opts.BaseBackoff, d.opts.MaxBackoff))
	d.opts.Logger.Info("webhook delivery will be retried", "subscription", del.SubscriptionID, "delivery", del.ID,
		"event_id", del.Event.ID, "attempts", attempts, "next_attempt", r.NextAttempt, "error", err)
	return r, "retry"
}

// send posts the event to the subscription's URL and returns the response
// status. Any status outside 2xx is an error.
func (d *Dispatcher) send(ctx context.Context, sub metadata.Subscription, del metadata.Delivery) (int, error) {
	if sub.ID == "" {
		return 0, errors.New("the subscription was deleted")
	}
	body, err := Marshal(del.Event)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request to %s: %w", sub.URL, err)
	}
	req.Header.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	req.Header.Set("User-Agent", "cofferd-webhooks")
	req.Header.Set(SignatureHeader, Sign(sub.Secret, time.Now(), body))
	req.Header.Set("Coffer-Event-Id", del.Event.ID)
	req.Header.Set("Coffer-Delivery-Id", strconv.FormatInt(del.ID, 10))

	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post to %s: %w", sub.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("post to %s: status %d", sub.URL, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// Backoff returns the pause before the retry that follows attempt n (1
// for the first attempt): base·2^(n-1) capped at maxDelay, of which a
// random half is dropped so that receivers coming back are not hit by
// every retry at once.
func Backoff(n int, base, maxDelay time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	half := d / 2
	return half + rand.N(half+1)
}
