package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// subscriptionColumns are the columns scanSubscription reads, in its order.
const subscriptionColumns = `id, name, url, secret, types, repositories, buckets, origin, created`

// scanSubscription reads one row of subscriptionColumns.
func scanSubscription(row pgx.Row) (metadata.Subscription, error) {
	var sub metadata.Subscription
	var types, repositories, buckets string
	var created int64
	if err := row.Scan(&sub.ID, &sub.Name, &sub.URL, &sub.Secret, &types, &repositories, &buckets, &sub.Origin, &created); err != nil {
		return metadata.Subscription{}, err
	}
	sub.Created = fromUnixNano(created)
	for _, f := range []struct {
		stored string
		into   *[]string
	}{{types, &sub.Types}, {repositories, &sub.Repositories}, {buckets, &sub.Buckets}} {
		if err := json.Unmarshal([]byte(f.stored), f.into); err != nil {
			return metadata.Subscription{}, fmt.Errorf("decode filters of subscription %s: %w", sub.ID, err)
		}
	}
	return sub, nil
}

// encodeList stores a list as a JSON array, never null.
func encodeList(list []string) string {
	if list == nil {
		list = []string{}
	}
	encoded, _ := json.Marshal(list) // a []string always encodes
	return string(encoded)
}

// CreateSubscription stores sub, or returns an error wrapping
// metadata.ErrAlreadyExists.
func (s *Store) CreateSubscription(ctx context.Context, sub metadata.Subscription) error {
	err := s.write(ctx, func(tx pgx.Tx) error { return insertSubscription(ctx, tx, sub, time.Now()) })
	if err != nil {
		return fmt.Errorf("create subscription %s: %w", sub.ID, err)
	}
	return nil
}

// insertSubscription inserts sub, or fails with metadata.ErrAlreadyExists.
func insertSubscription(ctx context.Context, tx pgx.Tx, sub metadata.Subscription, now time.Time) error {
	const insert = `INSERT INTO webhook_subscriptions (` + subscriptionColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`
	tag, err := tx.Exec(ctx, insert, sub.ID, sub.Name, sub.URL, sub.Secret, encodeList(sub.Types),
		encodeList(sub.Repositories), encodeList(sub.Buckets), sub.Origin, unixNano(sub.Created, now))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return metadata.ErrAlreadyExists
	}
	return nil
}

// ReplaceConfigSubscriptions makes the stored subscriptions of origin
// "config" equal subs, in one transaction. Replicas that start together
// may run it at once; their upserts are idempotent.
func (s *Store) ReplaceConfigSubscriptions(ctx context.Context, subs []metadata.Subscription) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		keep := make([]string, 0, len(subs))
		now := time.Now()
		for _, sub := range subs {
			const upsert = `INSERT INTO webhook_subscriptions (` + subscriptionColumns + `)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 'config', $8)
				ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url, secret = excluded.secret,
					types = excluded.types, repositories = excluded.repositories, buckets = excluded.buckets
				WHERE webhook_subscriptions.origin = 'config'`
			tag, err := tx.Exec(ctx, upsert, sub.ID, sub.Name, sub.URL, sub.Secret, encodeList(sub.Types),
				encodeList(sub.Repositories), encodeList(sub.Buckets), unixNano(sub.Created, now))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("subscription %s was created through the API: %w", sub.ID, metadata.ErrAlreadyExists)
			}
			keep = append(keep, sub.ID)
		}
		_, err := tx.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE origin = 'config' AND NOT (id = ANY($1))`, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("replace config subscriptions: %w", err)
	}
	return nil
}

// GetSubscription returns the subscription, or an error wrapping
// metadata.ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, id string) (metadata.Subscription, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions WHERE id = $1`, id)
	sub, err := scanSubscription(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return metadata.Subscription{}, fmt.Errorf("subscription %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.Subscription{}, fmt.Errorf("get subscription %s: %w", id, err)
	}
	return sub, nil
}

// ListSubscriptions returns up to limit subscriptions with IDs after the
// cursor, in byte order.
func (s *Store) ListSubscriptions(ctx context.Context, after string, limit int) ([]metadata.Subscription, error) {
	query := `SELECT ` + subscriptionColumns + ` FROM webhook_subscriptions WHERE id > $1 ORDER BY id LIMIT $2`
	rows, err := s.pool.Query(ctx, query, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Subscription, error) { return scanSubscription(row) })
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

// DeleteSubscription removes the subscription and, by ON DELETE CASCADE,
// its deliveries, or returns an error wrapping metadata.ErrNotFound.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_subscriptions WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("subscription %s: %w", id, metadata.ErrNotFound)
	}
	return nil
}
