package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// accessKeyColumns are the columns scanAccessKey reads, in order.
const accessKeyColumns = `id, secret, owner_id, owner, restriction, description, created, expires, revoked`

// CreateAccessKey stores k, or returns an error wrapping
// metadata.ErrAlreadyExists when its ID is taken.
func (s *Store) CreateAccessKey(ctx context.Context, k metadata.AccessKey) error {
	const insert = `INSERT INTO access_keys (` + accessKeyColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`
	result, err := s.pool.Exec(ctx, insert, k.ID, k.SealedSecret, k.OwnerID, string(k.Owner),
		nullBytes(k.Restriction), k.Description, unixNano(k.Created, time.Now()), nullTime(k.Expires), nullTime(k.Revoked))
	if err != nil {
		return fmt.Errorf("create access key %s: %w", k.ID, err)
	}
	if result.RowsAffected() == 0 {
		return fmt.Errorf("access key %s: %w", k.ID, metadata.ErrAlreadyExists)
	}
	return nil
}

// GetAccessKey returns the key, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetAccessKey(ctx context.Context, id string) (metadata.AccessKey, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = $1`, id)
	k, err := scanAccessKey(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return metadata.AccessKey{}, fmt.Errorf("access key %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.AccessKey{}, fmt.Errorf("get access key %s: %w", id, err)
	}
	return k, nil
}

// ListAccessKeys returns the keys of ownerID, or all keys for "", by ID.
func (s *Store) ListAccessKeys(ctx context.Context, ownerID string) ([]metadata.AccessKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accessKeyColumns+` FROM access_keys
		WHERE $1 = '' OR owner_id = $1 ORDER BY id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.AccessKey, error) {
		return scanAccessKey(row)
	})
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	return keys, nil
}

// RevokeAccessKey marks the key revoked, keeping an earlier revocation.
func (s *Store) RevokeAccessKey(ctx context.Context, id string, at time.Time) error {
	const update = `UPDATE access_keys SET revoked = coalesce(revoked, $1) WHERE id = $2`
	result, err := s.pool.Exec(ctx, update, unixNano(at, time.Now()), id)
	if err != nil {
		return fmt.Errorf("revoke access key %s: %w", id, err)
	}
	if result.RowsAffected() == 0 {
		return fmt.Errorf("access key %s: %w", id, metadata.ErrNotFound)
	}
	return nil
}

// PutBucketPolicy stores or replaces the policy of an existing bucket. The
// bucket row is locked against a concurrent DeleteBucket first.
func (s *Store) PutBucketPolicy(ctx context.Context, bucket string, document []byte) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lockBucket(ctx, tx, bucket, "FOR SHARE"); err != nil {
			return err
		}
		const upsert = `INSERT INTO bucket_policies (bucket, document) VALUES ($1, $2)
			ON CONFLICT (bucket) DO UPDATE SET document = excluded.document`
		if _, err := tx.Exec(ctx, upsert, bucket, string(document)); err != nil {
			return fmt.Errorf("put policy of bucket %s: %w", bucket, err)
		}
		return nil
	})
}

// GetBucketPolicy returns the policy document of bucket, or an error
// wrapping metadata.ErrNotFound when it has none.
func (s *Store) GetBucketPolicy(ctx context.Context, bucket string) ([]byte, error) {
	var document string
	err := s.pool.QueryRow(ctx, `SELECT document FROM bucket_policies WHERE bucket = $1`, bucket).Scan(&document)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("policy of bucket %s: %w", bucket, metadata.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get policy of bucket %s: %w", bucket, err)
	}
	return []byte(document), nil
}

// DeleteBucketPolicy removes the policy of an existing bucket.
func (s *Store) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := requireBucket(ctx, tx, bucket); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM bucket_policies WHERE bucket = $1`, bucket); err != nil {
			return fmt.Errorf("delete policy of bucket %s: %w", bucket, err)
		}
		return nil
	})
}

// scanAccessKey reads the accessKeyColumns of one row.
func scanAccessKey(row pgx.Row) (metadata.AccessKey, error) {
	var (
		k                metadata.AccessKey
		owner            string
		restriction      *string
		created          int64
		expires, revoked *int64
	)
	if err := row.Scan(&k.ID, &k.SealedSecret, &k.OwnerID, &owner, &restriction, &k.Description, &created, &expires, &revoked); err != nil {
		return metadata.AccessKey{}, err
	}
	k.Owner = []byte(owner)
	if restriction != nil {
		k.Restriction = []byte(*restriction)
	}
	k.Created = fromUnixNano(created)
	if expires != nil {
		k.Expires = fromUnixNano(*expires)
	}
	if revoked != nil {
		k.Revoked = fromUnixNano(*revoked)
	}
	return k, nil
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UTC().UnixNano()
	return &n
}

// nullBytes stores nil as NULL.
func nullBytes(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
