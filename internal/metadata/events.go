package metadata

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
)

// ChangeKind names one kind of state change that a write transaction made.
type ChangeKind string

// The changes a store reports to its EventRecorder.
const (
	ManifestPushed  ChangeKind = "manifest.pushed"
	ManifestDeleted ChangeKind = "manifest.deleted"
	TagCreated      ChangeKind = "tag.created"
	TagMoved        ChangeKind = "tag.moved"
	TagDeleted      ChangeKind = "tag.deleted"
	ObjectCreated   ChangeKind = "object.created"
	ObjectDeleted   ChangeKind = "object.deleted"
)

// Change describes one state change of a write transaction.
type Change struct {
	Kind ChangeKind
	// Repository is set for manifest and tag changes.
	Repository string
	// Manifest is the pushed or deleted manifest. A deleted manifest
	// carries its digest, media type, artifact type, subject and content.
	Manifest *Manifest
	// Tag, Digest and PreviousDigest describe a tag change: the tag, the
	// manifest it points at now (or pointed at, when deleted), and the
	// manifest it pointed at before it moved. PreviousDigest may be empty
	// for a move that raced with the tag's creation on PostgreSQL.
	Tag            string
	Digest         digest.Digest
	PreviousDigest digest.Digest
	// Object is the created or deleted S3 object.
	Object *Object
}

// Event is one row of the event outbox: a CloudEvent whose envelope
// fields are stored apart from its JSON data.
type Event struct {
	// Seq is the outbox position, assigned by the store on insert.
	Seq     int64
	ID      string
	Type    string
	Source  string
	Subject string
	// ScopeKind is "repository", "bucket" or empty, and ScopeName the
	// repository or bucket name; subscriptions filter on them.
	ScopeKind string
	ScopeName string
	Time      time.Time
	Data      []byte
}

// EventRecorder turns the changes of one transaction into outbox events.
// The store calls it inside the transaction, so it must not do I/O, and
// an error from it rolls the change back.
type EventRecorder func(changes []Change) ([]Event, error)

// Subscription is a webhook subscriber.
type Subscription struct {
	ID   string
	Name string
	URL  string
	// Secret is the HMAC-SHA256 key that signs every delivery.
	Secret string
	// Types are the event types delivered; empty means every type.
	Types []string
	// Repositories and Buckets are glob patterns on the event's
	// repository or bucket; both empty means every event.
	Repositories []string
	Buckets      []string
	// Origin is "config" for subscriptions from the configuration file and
	// "api" for those created through the management API.
	Origin  string
	Created time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is the state of one event's delivery to one subscription.
type Delivery struct {
	ID             int64
	SubscriptionID string
	Event          Event
	Status         string
	Attempts       int
	NextAttempt    time.Time
	LastError      string
	ResponseCode   int
	Created        time.Time
	Updated        time.Time
}

// AttemptResult is the outcome of one delivery attempt.
type AttemptResult struct {
	DeliveryID int64
	// Status is the delivery's new state.
	Status       string
	NextAttempt  time.Time
	LastError    string
	ResponseCode int
}

// Webhooks stores the event outbox, webhook subscriptions and deliveries.
type Webhooks interface {
	// SetEventRecorder installs the recorder that every later write
	// transaction calls with its changes. Call it before the store is used
	// concurrently; a nil recorder records nothing.
	SetEventRecorder(r EventRecorder)
	// AppendEvents inserts events that no other state change goes with,
	// such as a policy denial.
	AppendEvents(ctx context.Context, events []Event) error
	// ListEvents returns up to limit outbox events after seq, in order.
	ListEvents(ctx context.Context, afterSeq int64, limit int) ([]Event, error)
	// FanOutEvents takes up to limit outbox events that were not fanned
	// out yet, in outbox order, creates a pending delivery for each
	// subscription ID that match returns, and marks the events fanned
	// out, in one transaction that excludes every other fan-out. It
	// returns how many events it took. An ID of a deleted subscription is
	// skipped.
	FanOutEvents(ctx context.Context, limit int, now time.Time, match func(Event) []string) (int, error)
	// ClaimDeliveries leases up to limit due pending deliveries to owner
	// until now+lease. A delivery is due when its next attempt time has
	// passed, it is not leased, and no earlier pending delivery of the
	// same subscription has the same event subject, so that each subject
	// is delivered in order. Concurrent callers never claim the same row.
	ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// FinishAttempt records the outcome of an attempt, adds one to the
	// attempts and releases the lease. It returns ErrConflict when owner
	// no longer holds the lease.
	FinishAttempt(ctx context.Context, owner string, now time.Time, r AttemptResult) error
	// ListDeliveries returns up to limit deliveries of the subscription
	// with IDs below beforeID (zero for the newest), newest first.
	ListDeliveries(ctx context.Context, subscriptionID string, beforeID int64, limit int) ([]Delivery, error)
	// GetDelivery returns one delivery of the subscription, or ErrNotFound.
	GetDelivery(ctx context.Context, subscriptionID string, id int64) (Delivery, error)
	// Redeliver makes a delivery pending again with zero attempts, due at
	// now, and returns it, or returns ErrNotFound.
	Redeliver(ctx context.Context, subscriptionID string, id int64, now time.Time) (Delivery, error)
	// PruneEvents deletes up to limit fanned-out events older than before
	// that have no pending delivery, together with their deliveries, and
	// returns how many events it deleted.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// CreateSubscription stores s, or returns ErrAlreadyExists.
	CreateSubscription(ctx context.Context, s Subscription) error
	// ReplaceConfigSubscriptions makes the subscriptions of origin
	// "config" equal subs: new ones are added, changed ones updated and
	// missing ones deleted with their deliveries. A config subscription
	// whose ID an API subscription holds returns ErrAlreadyExists.
	ReplaceConfigSubscriptions(ctx context.Context, subs []Subscription) error
	// GetSubscription returns the subscription, or ErrNotFound.
	GetSubscription(ctx context.Context, id string) (Subscription, error)
	// ListSubscriptions returns up to limit subscriptions with IDs after
	// the cursor, in byte order. A limit of zero or less means no limit.
	ListSubscriptions(ctx context.Context, after string, limit int) ([]Subscription, error)
	// DeleteSubscription removes the subscription and its deliveries, or
	// returns ErrNotFound.
	DeleteSubscription(ctx context.Context, id string) error
}
