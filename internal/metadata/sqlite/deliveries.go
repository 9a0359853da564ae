package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// deliveryColumns are the columns scanDelivery reads, in its order, from
// webhook_deliveries d joined with event_outbox e.
const deliveryColumns = eventColumns + `, d.id, d.subscription_id, d.status, d.attempts, d.next_attempt,
	d.last_error, d.response_code, d.created, d.updated`

// deliveryFrom joins each delivery with its event.
const deliveryFrom = ` FROM webhook_deliveries d JOIN event_outbox e ON e.seq = d.event_seq `

// scanDelivery reads one row of deliveryColumns.
func scanDelivery(row rowScanner) (metadata.Delivery, error) {
	var d metadata.Delivery
	var next, created, updated int64
	e, err := scanEvent(row, &d.ID, &d.SubscriptionID, &d.Status, &d.Attempts, &next,
		&d.LastError, &d.ResponseCode, &created, &updated)
	if err != nil {
		return metadata.Delivery{}, err
	}
	d.Event = e
	d.NextAttempt = fromUnixNano(next)
	d.Created = fromUnixNano(created)
	d.Updated = fromUnixNano(updated)
	return d, nil
}

// queryDeliveries runs a query whose rows are deliveryColumns.
func queryDeliveries(ctx context.Context, q queryer, query string, args ...any) ([]metadata.Delivery, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []metadata.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// claimableQuery selects the IDs of due deliveries that head their
// subscription's queue for their subject.
const claimableQuery = `SELECT d.id FROM webhook_deliveries d
	WHERE d.status = 'pending' AND d.next_attempt <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
		WHERE p.subscription_id = d.subscription_id AND p.subject = d.subject
		AND p.status = 'pending' AND p.event_seq < d.event_seq)
	ORDER BY d.event_seq LIMIT ?`

// ClaimDeliveries leases up to limit due deliveries to owner. The single
// writer connection keeps two claims from taking the same row.
func (s *Store) ClaimDeliveries(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]metadata.Delivery, error) {
	var claimed []metadata.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := now.UTC().UnixNano()
		rows, err := tx.QueryContext(ctx, claimableQuery, at, at, sqlLimit(limit))
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}

		// The IDs travel as one JSON array, which json_each unpacks.
		idList, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		const update = `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
			WHERE id IN (SELECT value FROM json_each(?))`
		if _, err := tx.ExecContext(ctx, update, owner, now.Add(lease).UTC().UnixNano(), string(idList)); err != nil {
			return err
		}
		query := `SELECT ` + deliveryColumns + deliveryFrom + `WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY e.seq`
		claimed, err = queryDeliveries(ctx, tx, query, string(idList))
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
		SET status = ?, attempts = attempts + 1, next_attempt = ?, last_error = ?, response_code = ?,
			lease_owner = NULL, lease_until = NULL, updated = ?
		WHERE id = ? AND lease_owner = ? AND status = 'pending'`
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, update, r.Status, r.NextAttempt.UTC().UnixNano(), r.LastError, r.ResponseCode,
			now.UTC().UnixNano(), r.DeliveryID, owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("finish attempt of delivery %d: %w", r.DeliveryID, err)
	}
	if n == 0 {
		return fmt.Errorf("finish attempt of delivery %d by %s: %w: %w", r.DeliveryID, owner, errLeaseLost, metadata.ErrConflict)
	}
	return nil
}

// ListDeliveries returns up to limit deliveries of the subscription with
// IDs below beforeID (zero for the newest), newest first.
func (s *Store) ListDeliveries(ctx context.Context, subscriptionID string, beforeID int64, limit int) ([]metadata.Delivery, error) {
	query := `SELECT ` + deliveryColumns + deliveryFrom +
		`WHERE d.subscription_id = ? AND (? = 0 OR d.id < ?) ORDER BY d.id DESC LIMIT ?`
	out, err := queryDeliveries(ctx, s.reader, query, subscriptionID, beforeID, beforeID, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list deliveries of subscription %s: %w", subscriptionID, err)
	}
	return out, nil
}

// GetDelivery returns one delivery, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetDelivery(ctx context.Context, subscriptionID string, id int64) (metadata.Delivery, error) {
	return getDelivery(ctx, s.reader, subscriptionID, id)
}

// getDelivery reads one delivery with q.
func getDelivery(ctx context.Context, q queryer, subscriptionID string, id int64) (metadata.Delivery, error) {
	query := `SELECT ` + deliveryColumns + deliveryFrom + `WHERE d.subscription_id = ? AND d.id = ?`
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
		SET status = 'pending', attempts = 0, next_attempt = ?, last_error = '', response_code = 0,
			lease_owner = NULL, lease_until = NULL, updated = ?
		WHERE subscription_id = ? AND id = ?`
	var d metadata.Delivery
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		at := now.UTC().UnixNano()
		if _, err := tx.ExecContext(ctx, update, at, at, subscriptionID, id); err != nil {
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
