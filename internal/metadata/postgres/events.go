package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// fanOutLock is the transaction-level advisory lock that makes fan-outs
// exclusive across replicas. Two replicas fanning out different batches
// at once could otherwise commit a later event's delivery before an
// earlier one of the same subject exists, and deliver them out of order.
const fanOutLock = 0x636f66666572 // "coffer" in ASCII

// SetEventRecorder installs the recorder that every later write
// transaction calls with its changes. Call it before the store is shared.
func (s *Store) SetEventRecorder(r metadata.EventRecorder) { s.recorder = r }

// record turns changes into events with the installed recorder and inserts
// them into the outbox inside tx. Without a recorder it does nothing.
func (s *Store) record(ctx context.Context, tx pgx.Tx, changes ...metadata.Change) error {
	if s.recorder == nil || len(changes) == 0 {
		return nil
	}
	events, err := s.recorder(changes)
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	return insertEvents(ctx, tx, events)
}

// insertEvents appends events to the outbox in slice order. A transaction
// inserts its events after it locked the rows it changes, so events of
// one subject get outbox positions in commit order.
func insertEvents(ctx context.Context, tx pgx.Tx, events []metadata.Event) error {
	const insert = `INSERT INTO event_outbox (id, type, source, subject, scope_kind, scope_name, time, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	for _, e := range events {
		_, err := tx.Exec(ctx, insert, e.ID, e.Type, e.Source, e.Subject, e.ScopeKind, e.ScopeName,
			e.Time.UTC().UnixNano(), e.Data)
		if err != nil {
			return fmt.Errorf("insert event %s into the outbox: %w", e.ID, err)
		}
	}
	return nil
}

// manifestDeletion reads what the deletion of the locked manifest d will
// remove: one change per tag pointing at it, in tag order, then the
// manifest itself.
func manifestDeletion(ctx context.Context, tx pgx.Tx, repoID int64, repo string, d digest.Digest) ([]metadata.Change, error) {
	m := &metadata.Manifest{Repository: repo, Digest: d}
	var subject *string
	const query = `SELECT media_type, content, artifact_type, subject FROM manifests WHERE repository_id = $1 AND digest = $2`
	err := tx.QueryRow(ctx, query, repoID, string(d)).Scan(&m.MediaType, &m.Content, &m.ArtifactType, &subject)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", d, err)
	}
	if subject != nil {
		m.Subject = digest.Digest(*subject)
	}

	rows, err := tx.Query(ctx, `SELECT name FROM tags WHERE repository_id = $1 AND digest = $2 ORDER BY name COLLATE "C"`, repoID, string(d))
	if err != nil {
		return nil, fmt.Errorf("list tags of manifest %s: %w", d, err)
	}
	tags, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list tags of manifest %s: %w", d, err)
	}
	changes := make([]metadata.Change, 0, len(tags)+1)
	for _, tag := range tags {
		changes = append(changes, metadata.Change{Kind: metadata.TagDeleted, Repository: repo, Tag: tag, Digest: d})
	}
	return append(changes, metadata.Change{Kind: metadata.ManifestDeleted, Repository: repo, Manifest: m}), nil
}

// AppendEvents inserts events into the outbox in one transaction.
func (s *Store) AppendEvents(ctx context.Context, events []metadata.Event) error {
	err := s.write(ctx, func(tx pgx.Tx) error { return insertEvents(ctx, tx, events) })
	if err != nil {
		return fmt.Errorf("append %d events: %w", len(events), err)
	}
	return nil
}

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `e.seq, e.id, e.type, e.source, e.subject, e.scope_kind, e.scope_name, e.time, e.data`

// scanEvent reads one row that starts with eventColumns, followed by the
// destinations in more.
func scanEvent(row pgx.Row, more ...any) (metadata.Event, error) {
	var e metadata.Event
	var t int64
	dest := append([]any{&e.Seq, &e.ID, &e.Type, &e.Source, &e.Subject, &e.ScopeKind, &e.ScopeName, &t, &e.Data}, more...)
	if err := row.Scan(dest...); err != nil {
		return metadata.Event{}, err
	}
	e.Time = fromUnixNano(t)
	return e, nil
}

// queryEvents runs a query whose rows are eventColumns.
func queryEvents(ctx context.Context, q queryer, query string, args ...any) ([]metadata.Event, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Event, error) { return scanEvent(row) })
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return events, nil
}

// ListEvents returns up to limit outbox events after seq, in order.
func (s *Store) ListEvents(ctx context.Context, afterSeq int64, limit int) ([]metadata.Event, error) {
	query := `SELECT ` + eventColumns + ` FROM event_outbox e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2`
	return queryEvents(ctx, s.pool, query, afterSeq, sqlLimit(limit))
}

// FanOutEvents creates the deliveries of up to limit events that were not
// fanned out yet, under an advisory lock that serialises fan-outs.
func (s *Store) FanOutEvents(ctx context.Context, limit int, now time.Time, match func(metadata.Event) []string) (int, error) {
	var taken int
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(fanOutLock)); err != nil {
			return fmt.Errorf("take the fan-out lock: %w", err)
		}
		query := `SELECT ` + eventColumns + ` FROM event_outbox e WHERE NOT e.fanned_out ORDER BY e.seq LIMIT $1`
		events, err := queryEvents(ctx, tx, query, sqlLimit(limit))
		if err != nil {
			return err
		}
		const insert = `INSERT INTO webhook_deliveries
			(subscription_id, event_seq, subject, status, next_attempt, created, updated)
			SELECT $1::text, $2::bigint, $3::text, 'pending', $4::bigint, $4::bigint, $4::bigint
			WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = $1::text)
			ON CONFLICT (subscription_id, event_seq) DO NOTHING`
		at := now.UTC().UnixNano()
		for _, e := range events {
			for _, id := range match(e) {
				if _, err := tx.Exec(ctx, insert, id, e.Seq, e.Subject, at); err != nil {
					return fmt.Errorf("create delivery of event %s to %s: %w", e.ID, id, err)
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE event_outbox SET fanned_out = true WHERE seq = $1`, e.Seq); err != nil {
				return fmt.Errorf("mark event %s fanned out: %w", e.ID, err)
			}
		}
		taken = len(events)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("fan out events: %w", err)
	}
	return taken, nil
}

// PruneEvents deletes old fanned-out events without pending deliveries;
// their deliveries go with them by ON DELETE CASCADE.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	const del = `DELETE FROM event_outbox WHERE seq IN (
		SELECT e.seq FROM event_outbox e
		WHERE e.fanned_out AND e.time < $1
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
		ORDER BY e.seq LIMIT $2
		FOR UPDATE SKIP LOCKED)`
	var n int64
	err := s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, del, before.UTC().UnixNano(), sqlLimit(limit))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return int(n), nil
}

// errLeaseLost is wrapped when an attempt finishes after its lease moved on.
var errLeaseLost = errors.New("the delivery lease expired")
