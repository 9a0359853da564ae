package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// deliveryColumns are the columns scanDelivery reads, in its order, from
// webhook_deliveries d joined with event_outbox e.
const deliveryColumns = eventColumns + `, d.id, d.subscription_id, d.status, d.attempts, d.next_attempt,
	d.last_error, d.response_code, d.created, d.updated`

// deliveryFrom joins each delivery with its event.
const deliveryFrom = ` FROM webhook_deliveries d JOIN event_outbox e ON e.seq = d.event_seq `

// scanDelivery reads one row of deliveryColumns.
func scanDelivery(row pgx.Row) (metadata.Delivery, error) {
	var d metadata.Delivery
	var next, created, updated int64
	var attempts, code int32
	e, err := scanEvent(row, &d.ID, &d.SubscriptionID, &d.Status, &attempts, &next,
		&d.LastError, &code, &created, &updated)
	if err != nil {
		return metadata.Delivery{}, err
	}
	d.Event = e
	d.Attempts = int(attempts)
	d.ResponseCode = int(code)
	d.NextAttempt = fromUnixNano(next)
	d.Created = fromUnixNano(created)
	d.Updated = fromUnixNano(updated)
	return d, nil
}

// queryDeliveries runs a query whose rows are deliveryColumns.
func queryDeliveries(ctx context.Context, q queryer, query string, args ...any) ([]metadata.Delivery, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Delivery, error) { return scanDelivery(row) })
}

// claimQuery leases the due deliveries that head their subscription's
// queue for their subject. FOR UPDATE SKIP LOCKED lets replicas claim in
// parallel without waiting for or taking each other's rows; a replica
// that skips a locked head still sees it pending, so it does not claim
// the next delivery of that subject either.
const claimQuery = `UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2
	WHERE id IN (SELECT d.id FROM webhook_deliveries d
		WHERE d.status = 'pending' AND d.next_attempt <= $3 AND (d.lease_until IS NULL OR d.lease_until <= $3)
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
			WHERE p.subscription_id = d.subscription_id AND p.subject = d.subject
			AND p.status = 'pending' AND p.event_seq < d.event_seq)
		ORDER BY d.event_seq LIMIT $4
		FOR UPDATE SKIP LOCKED)
	RETURNING id`

// ClaimDeliveries leases up to limit due deliveries to owner.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]metadata.Delivery, error) {
	var claimed []metadata.Delivery
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimQuery, owner, now.Add(lease).UTC().UnixNano(), now.UTC().UnixNano(), sqlLimit(limit))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || len(ids) == 0 {
			return err
		}
		claimed, err = queryDeliveries(ctx, tx, `SELECT `+deliveryColumns+deliveryFrom+`WHERE d.id = ANY($1) ORDER BY e.seq`, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries for %s: %w", owner, err)
	}
	return claimed, nil
}

// FinishAttempt records an attempt's outcome when owner still holds the
// delivery's lease, else returns an error wrapping metadata.ErrConflict.
func (s *Store) FinishAttempt(ctx context.Context, owner string, now time.Time, r metadata.AttemptResult) error {
	const update = `UPDATE webhook_deliveries
		SET status = $1, attempts = attempts + 1, next_attempt = $2, last_error = $3, response_code = $4,
			lease_owner = NULL, lease_until = NULL, updated = $5
		WHERE id = $6 AND lease_owner = $7 AND status = 'pending'`
	tag, err := s.pool.Exec(ctx, update, r.Status, r.NextAttempt.UTC().UnixNano(), r.LastError, int32(r.ResponseCode),
		now.UTC().UnixNano(), r.DeliveryID, owner)
	if err != nil {
		return fmt.Errorf("finish attempt of delivery %d: %w", r.DeliveryID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish attempt of delivery %d by %s: %w: %w", r.DeliveryID, owner, errLeaseLost, metadata.ErrConflict)
	}
	return nil
}

// ListDeliveries returns up to limit deliveries of the subscription with
// IDs below beforeID (zero for the newest), newest first.
func (s *Store) ListDeliveries(ctx context.Context, subscriptionID string, beforeID int64, limit int) ([]metadata.Delivery, error) {
	query := `SELECT ` + deliveryColumns + deliveryFrom +
		`WHERE d.subscription_id = $1 AND ($2::bigint = 0 OR d.id < $2::bigint) ORDER BY d.id DESC LIMIT $3`
	out, err := queryDeliveries(ctx, s.pool, query, subscriptionID, beforeID, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list deliveries of subscription %s: %w", subscriptionID, err)
	}
	return out, nil
}

// GetDelivery returns one delivery, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, subscriptionID string, id int64) (metadata.Delivery, error) {
	return getDelivery(ctx, s.pool, subscriptionID, id)
}

// getDelivery reads one delivery with q.
func getDelivery(ctx context.Context, q queryer, subscriptionID string, id int64) (metadata.Delivery, error) {
	query := `SELECT ` + deliveryColumns + deliveryFrom + `WHERE d.subscription_id = $1 AND d.id = $2`
	out, err := queryDeliveries(ctx, q, query, subscriptionID, id)
	if err != nil {
		return metadata.Delivery{}, fmt.Errorf("get delivery %d of subscription %s: %w", id, subscriptionID, err)
	}
	if len(out) == 0 {
		return metadata.Delivery{}, fmt.Errorf("delivery %d of subscription %s: %w", id, subscriptionID, metadata.ErrNotFound)
	}
	return out[0], nil
}

// Redeliver makes a delivery pending again, due at now, with zero attempts.
func (s *Store) Redeliver(ctx context.Context, subscriptionID string, id int64, now time.Time) (metadata.Delivery, error) {
	const update = `UPDATE webhook_deliveries
		SET status = 'pending', attempts = 0, next_attempt = $1, last_error = '', response_code = 0,
			lease_owner = NULL, lease_until = NULL, updated = $1
		WHERE subscription_id = $2 AND id = $3`
	var d metadata.Delivery
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, update, now.UTC().UnixNano(), subscriptionID, id); err != nil {
			return fmt.Errorf("redeliver delivery %d of subscription %s: %w", id, subscriptionID, err)
		}
		var err error
		d, err = getDelivery(ctx, tx, subscriptionID, id)
		return err
	})
	if err != nil && !errors.Is(err, metadata.ErrNotFound) {
		return metadata.Delivery{}, fmt.Errorf("redeliver: %w", err)
	}
	return d, err
}
