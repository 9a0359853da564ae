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

// subscriptionColumns are the columns scanSubscription reads, in its order.
const subscriptionColumns = `id, name, url, secret, types, repositories, buckets, origin, created`

// scanSubscription reads one row of subscriptionColumns.
func scanSubscription(row rowScanner) (metadata.Subscription, error) {
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
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return insertSubscription(ctx, tx, sub, time.Now()) })
	if err != nil {
		return fmt.Errorf("create subscription %s: %w", sub.ID, err)
	}
	return nil
}

// insertSubscription inserts sub, or fails with metadata.ErrAlreadyExists.
func insertSubscription(ctx context.Context, tx *sql.Tx, sub metadata.Subscription, now time.Time) error {
	const insert = `INSERT INTO webhook_subscriptions (` + subscriptionColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	res, err := tx.ExecContext(ctx, insert, sub.ID, sub.Name, sub.URL, sub.Secret, encodeList(sub.Types),
		encodeList(sub.Repositories), encodeList(sub.Buckets), sub.Origin, unixNano(sub.Created, now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, metadata.ErrAlreadyExists)
	}
	return nil
}

// ReplaceConfigSubscriptions makes the stored subscriptions of origin
// "config" equal subs, in one transaction.
func (s *Store) ReplaceConfigSubscriptions(ctx context.Context, subs []metadata.Subscription) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		keep := make([]string, 0, len(subs))
		for _, sub := range subs {
			var origin string
			err := tx.QueryRowContext(ctx, `SELECT origin FROM webhook_subscriptions WHERE id = ?`, sub.ID).Scan(&origin)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				sub.Origin = "config"
				if err := insertSubscription(ctx, tx, sub, time.Now()); err != nil {
					return err
				}
			case err != nil:
				return err
			case origin != "config":
				return fmt.Errorf("subscription %s was created through the API: %w", sub.ID, metadata.ErrAlreadyExists)
			default:
				const update = `UPDATE webhook_subscriptions SET name = ?, url = ?, secret = ?, types = ?, repositories = ?, buckets = ?
					WHERE id = ?`
				if _, err := tx.ExecContext(ctx, update, sub.Name, sub.URL, sub.Secret, encodeList(sub.Types),
					encodeList(sub.Repositories), encodeList(sub.Buckets), sub.ID); err != nil {
					return err
				}
			}
			keep = append(keep, sub.ID)
		}

		const del = `DELETE FROM webhook_subscriptions
			WHERE origin = 'config' AND id NOT IN (SELECT value FROM json_each(?))`
		_, err := tx.ExecContext(ctx, del, encodeList(keep))
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
	row := s.reader.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM webhook_subscriptions WHERE id = ?`, id)
	sub, err := scanSubscription(row)
	if errors.Is(err, sql.ErrNoRows) {
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
	query := `SELECT ` + subscriptionColumns + ` FROM webhook_subscriptions WHERE id > ? ORDER BY id COLLATE BINARY LIMIT ?`
	rows, err := s.reader.QueryContext(ctx, query, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var subs []metadata.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return subs, nil
}

// DeleteSubscription removes the subscription and, by ON DELETE CASCADE,
// its deliveries, or returns an error wrapping metadata.ErrNotFound.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_subscriptions WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("subscription %s: %w", id, metadata.ErrNotFound)
	}
	return nil
}
