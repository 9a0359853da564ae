package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// SetEventRecorder installs the recorder that every later write
// transaction calls with its changes. Call it before the store is shared.
func (s *Store) SetEventRecorder(r metadata.EventRecorder) { s.recorder = r }

// record turns changes into events with the installed recorder and inserts
// them into the outbox inside tx. Without a recorder it does nothing.
func (s *Store) record(ctx context.Context, tx *sql.Tx, changes ...metadata.Change) error {
	if s.recorder == nil || len(changes) == 0 {
		return nil
	}
	events, err := s.recorder(changes)
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	return s.insertEvents(ctx, tx, events)
}

// insertEventQuery appends one event to the outbox.
const insertEventQuery = `INSERT INTO event_outbox (id, type, source, subject, scope_kind, scope_name, time, data)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// insertEvents appends events to the outbox in slice order.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []metadata.Event) error {
	insert := tx.StmtContext(ctx, s.writes.insertEvent)
	for _, e := range events {
		_, err := insert.ExecContext(ctx, e.ID, e.Type, e.Source, e.Subject, e.ScopeKind, e.ScopeName,
			e.Time.UTC().UnixNano(), e.Data)
		if err != nil {
			return fmt.Errorf("insert event %s into the outbox: %w", e.ID, err)
		}
	}
	return nil
}

// manifestDeletion reads what the deletion of manifest d will remove: one
// change per tag pointing at it, in tag order, then the manifest itself.
func manifestDeletion(ctx context.Context, tx *sql.Tx, repoID int64, repo string, d digest.Digest) ([]metadata.Change, error) {
	m := &metadata.Manifest{Repository: repo, Digest: d}
	var subject sql.NullString
	const query = `SELECT media_type, content, artifact_type, subject FROM manifests WHERE repository_id = ? AND digest = ?`
	err := tx.QueryRowContext(ctx, query, repoID, string(d)).Scan(&m.MediaType, &m.Content, &m.ArtifactType, &subject)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", d, err)
	}
	m.Subject = digest.Digest(subject.String)

	rows, err := tx.QueryContext(ctx, `SELECT name FROM tags WHERE repository_id = ? AND digest = ? ORDER BY name`, repoID, string(d))
	if err != nil {
		return nil, fmt.Errorf("list tags of manifest %s: %w", d, err)
	}
	defer rows.Close()
	var changes []metadata.Change
	for rows.Next() {
		var tag string
		if err := rows.Scan(&tag); err != nil {
			return nil, fmt.Errorf("list tags of manifest %s: %w", d, err)
		}
		changes = append(changes, metadata.Change{Kind: metadata.TagDeleted, Repository: repo, Tag: tag, Digest: d})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tags of manifest %s: %w", d, err)
	}
	return append(changes, metadata.Change{Kind: metadata.ManifestDeleted, Repository: repo, Manifest: m}), nil
}

// AppendEvents inserts events into the outbox in one transaction.
func (s *Store) AppendEvents(ctx context.Context, events []metadata.Event) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.insertEvents(ctx, tx, events) })
	if err != nil {
		return fmt.Errorf("append %d events: %w", len(events), err)
	}
	return nil
}

// eventColumns are the columns scanEvent reads, in its order.
const eventColumns = `e.seq, e.id, e.type, e.source, e.subject, e.scope_kind, e.scope_name, e.time, e.data`

// scanEvent reads one row that starts with eventColumns, followed by the
// destinations in more.
func scanEvent(row rowScanner, more ...any) (metadata.Event, error) {
	var e metadata.Event
	var t int64
	dest := append([]any{&e.Seq, &e.ID, &e.Type, &e.Source, &e.Subject, &e.ScopeKind, &e.ScopeName, &t, &e.Data}, more...)
	if err := row.Scan(dest...); err != nil {
		return metadata.Event{}, err
	}
	e.Time = fromUnixNano(t)
	return e, nil
}

// ListEvents returns up to limit outbox events after seq, in order.
func (s *Store) ListEvents(ctx context.Context, afterSeq int64, limit int) ([]metadata.Event, error) {
	query := `SELECT ` + eventColumns + ` FROM event_outbox e WHERE e.seq > ? ORDER BY e.seq LIMIT ?`
	return s.queryEvents(ctx, s.reader, query, afterSeq, sqlLimit(limit))
}

// queryEvents runs a query whose rows are eventColumns.
func (s *Store) queryEvents(ctx context.Context, q queryer, query string, args ...any) ([]metadata.Event, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var events []metadata.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return events, nil
}

// FanOutEvents creates the deliveries of up to limit events that were not
// fanned out yet. The single writer connection makes every fan-out
// exclusive.
func (s *Store) FanOutEvents(ctx context.Context, limit int, now time.Time, match func(metadata.Event) []string) (int, error) {
	var taken int
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		query := `SELECT ` + eventColumns + ` FROM event_outbox e WHERE e.fanned_out = 0 ORDER BY e.seq LIMIT ?`
		events, err := s.queryEvents(ctx, tx, query, sqlLimit(limit))
		if err != nil {
			return err
		}
		const insert = `INSERT INTO webhook_deliveries
			(subscription_id, event_seq, subject, status, next_attempt, created, updated)
			SELECT ?, ?, ?, 'pending', ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE id = ?)
			ON CONFLICT (subscription_id, event_seq) DO NOTHING`
		at := now.UTC().UnixNano()
		for _, e := range events {
			for _, id := range match(e) {
				if _, err := tx.ExecContext(ctx, insert, id, e.Seq, e.Subject, at, at, at, id); err != nil {
					return fmt.Errorf("create delivery of event %s to %s: %w", e.ID, id, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE event_outbox SET fanned_out = 1 WHERE seq = ?`, e.Seq); err != nil {
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
		WHERE e.fanned_out = 1 AND e.time < ?
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
		ORDER BY e.seq LIMIT ?)`
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, del, before.UTC().UnixNano(), sqlLimit(limit))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return int(n), nil
}

// errLeaseLost is wrapped when an attempt finishes after its lease moved on.
var errLeaseLost = errors.New("the delivery lease expired")

// queryer runs a query on a pool or inside a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}
