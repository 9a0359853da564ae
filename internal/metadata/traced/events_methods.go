package traced

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// SetEventRecorder calls the wrapped store's SetEventRecorder.
func (s *Store) SetEventRecorder(r metadata.EventRecorder) {
	s.next.SetEventRecorder(r)
}

// AppendEvents calls the wrapped store's AppendEvents inside a span.
func (s *Store) AppendEvents(ctx context.Context, events []metadata.Event) error {
	ctx, c := s.start(ctx, "metadata.AppendEvents")
	err := s.next.AppendEvents(ctx, events)
	c.end(err)
	return err
}

// ListEvents calls the wrapped store's ListEvents inside a span.
func (s *Store) ListEvents(ctx context.Context, afterSeq int64, limit int) ([]metadata.Event, error) {
	ctx, c := s.start(ctx, "metadata.ListEvents")
	result, err := s.next.ListEvents(ctx, afterSeq, limit)
	c.end(err)
	return result, err
}

// FanOutEvents calls the wrapped store's FanOutEvents inside a span.
func (s *Store) FanOutEvents(ctx context.Context, limit int, now time.Time, match func(metadata.Event) []string) (int, error) {
	ctx, c := s.start(ctx, "metadata.FanOutEvents")
	result, err := s.next.FanOutEvents(ctx, limit, now, match)
	c.end(err)
	return result, err
}

// ClaimDeliveries calls the wrapped store's ClaimDeliveries inside a span.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]metadata.Delivery, error) {
	ctx, c := s.start(ctx, "metadata.ClaimDeliveries")
	result, err := s.next.ClaimDeliveries(ctx, owner, now, lease, limit)
	c.end(err)
	return result, err
}

// FinishAttempt calls the wrapped store's FinishAttempt inside a span.
func (s *Store) FinishAttempt(ctx context.Context, owner string, now time.Time, r metadata.AttemptResult) error {
	ctx, c := s.start(ctx, "metadata.FinishAttempt")
	err := s.next.FinishAttempt(ctx, owner, now, r)
	c.end(err)
	return err
}

// ListDeliveries calls the wrapped store's ListDeliveries inside a span.
func (s *Store) ListDeliveries(ctx context.Context, subscriptionID string, beforeID int64, limit int) ([]metadata.Delivery, error) {
	ctx, c := s.start(ctx, "metadata.ListDeliveries")
	result, err := s.next.ListDeliveries(ctx, subscriptionID, beforeID, limit)
	c.end(err)
	return result, err
}

// GetDelivery calls the wrapped store's GetDelivery inside a span.
func (s *Store) GetDelivery(ctx context.Context, subscriptionID string, id int64) (metadata.Delivery, error) {
	ctx, c := s.start(ctx, "metadata.GetDelivery")
	result, err := s.next.GetDelivery(ctx, subscriptionID, id)
	c.end(err)
	return result, err
}

// Redeliver calls the wrapped store's Redeliver inside a span.
func (s *Store) Redeliver(ctx context.Context, subscriptionID string, id int64, now time.Time) (metadata.Delivery, error) {
	ctx, c := s.start(ctx, "metadata.Redeliver")
	result, err := s.next.Redeliver(ctx, subscriptionID, id, now)
	c.end(err)
	return result, err
}

// PruneEvents calls the wrapped store's PruneEvents inside a span.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	ctx, c := s.start(ctx, "metadata.PruneEvents")
	result, err := s.next.PruneEvents(ctx, before, limit)
	c.end(err)
	return result, err
}

// CreateSubscription calls the wrapped store's CreateSubscription inside a span.
func (s *Store) CreateSubscription(ctx context.Context, sub metadata.Subscription) error {
	ctx, c := s.start(ctx, "metadata.CreateSubscription")
	err := s.next.CreateSubscription(ctx, sub)
	c.end(err)
	return err
}

// ReplaceConfigSubscriptions calls the wrapped store's ReplaceConfigSubscriptions inside a span.
func (s *Store) ReplaceConfigSubscriptions(ctx context.Context, subs []metadata.Subscription) error {
	ctx, c := s.start(ctx, "metadata.ReplaceConfigSubscriptions")
	err := s.next.ReplaceConfigSubscriptions(ctx, subs)
	c.end(err)
	return err
}

// GetSubscription calls the wrapped store's GetSubscription inside a span.
func (s *Store) GetSubscription(ctx context.Context, id string) (metadata.Subscription, error) {
	ctx, c := s.start(ctx, "metadata.GetSubscription")
	result, err := s.next.GetSubscription(ctx, id)
	c.end(err)
	return result, err
}

// ListSubscriptions calls the wrapped store's ListSubscriptions inside a span.
func (s *Store) ListSubscriptions(ctx context.Context, after string, limit int) ([]metadata.Subscription, error) {
	ctx, c := s.start(ctx, "metadata.ListSubscriptions")
	result, err := s.next.ListSubscriptions(ctx, after, limit)
	c.end(err)
	return result, err
}

// DeleteSubscription calls the wrapped store's DeleteSubscription inside a span.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	ctx, c := s.start(ctx, "metadata.DeleteSubscription")
	err := s.next.DeleteSubscription(ctx, id)
	c.end(err)
	return err
}

// RepositoryUsage calls the wrapped store's RepositoryUsage inside a span.
func (s *Store) RepositoryUsage(ctx context.Context, repo string) (metadata.RepositoryUsage, error) {
	ctx, c := s.start(ctx, "metadata.RepositoryUsage")
	result, err := s.next.RepositoryUsage(ctx, repo)
	c.end(err)
	return result, err
}

// BucketUsage calls the wrapped store's BucketUsage inside a span.
func (s *Store) BucketUsage(ctx context.Context, bucket string) (metadata.BucketUsage, error) {
	ctx, c := s.start(ctx, "metadata.BucketUsage")
	result, err := s.next.BucketUsage(ctx, bucket)
	c.end(err)
	return result, err
}
