package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// accessKeyColumns are the columns scanAccessKey reads, in order.
const accessKeyColumns = `id, secret, owner_id, owner, restriction, description, created, expires, revoked`

// CreateAccessKey stores k, or returns an error wrapping
// metadata.ErrAlreadyExists when its ID is taken.
func (s *Store) CreateAccessKey(ctx context.Context, k metadata.AccessKey) error {
	const insert = `INSERT INTO access_keys (` + accessKeyColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`
	return s.execOne(ctx, "create access key "+k.ID, "access key "+k.ID, metadata.ErrAlreadyExists, insert,
		k.ID, k.SealedSecret, k.OwnerID, string(k.Owner), nullBytes(k.Restriction), k.Description,
		unixNano(k.Created, time.Now()), nullTime(k.Expires), nullTime(k.Revoked))
}

// GetAccessKey returns the key, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetAccessKey(ctx context.Context, id string) (metadata.AccessKey, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = ?`, id)
	k, err := scanAccessKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return metadata.AccessKey{}, fmt.Errorf("access key %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return metadata.AccessKey{}, fmt.Errorf("get access key %s: %w", id, err)
	}
	return k, nil
}

// ListAccessKeys returns the keys of ownerID, or all keys for "", by ID.
func (s *Store) ListAccessKeys(ctx context.Context, ownerID string) ([]metadata.AccessKey, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+accessKeyColumns+` FROM access_keys
		WHERE ?1 = '' OR owner_id = ?1 ORDER BY id`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	defer rows.Close()
	var keys []metadata.AccessKey
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list access keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	return keys, nil
}

// RevokeAccessKey marks the key revoked, keeping an earlier revocation.
func (s *Store) RevokeAccessKey(ctx context.Context, id string, at time.Time) error {
	const update = `UPDATE access_keys SET revoked = coalesce(revoked, ?) WHERE id = ?`
	return s.execOne(ctx, "revoke access key "+id, "access key "+id, metadata.ErrNotFound, update, unixNano(at, time.Now()), id)
}

// PutBucketPolicy stores or replaces the policy of an existing bucket.
func (s *Store) PutBucketPolicy(ctx context.Context, bucket string, document []byte) error {
	const upsert = `INSERT INTO bucket_policies (bucket, document)
		SELECT name, ?2 FROM buckets WHERE name = ?1
		ON CONFLICT (bucket) DO UPDATE SET document = excluded.document`
	return s.execOne(ctx, "put policy of bucket "+bucket, "bucket "+bucket, metadata.ErrNotFound, upsert, bucket, string(document))
}

// getBucketPolicyQuery reads a bucket's policy document. Every S3 request
// on a bucket reads it, so it is prepared.
const getBucketPolicyQuery = `SELECT document FROM bucket_policies WHERE bucket = ?`

// GetBucketPolicy returns the policy document of bucket, or an error
// wrapping metadata.ErrNotFound when it has none.
func (s *Store) GetBucketPolicy(ctx context.Context, bucket string) ([]byte, error) {
	var document string
	err := s.read.getBucketPolicy.QueryRowContext(ctx, bucket).Scan(&document)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("policy of bucket %s: %w", bucket, metadata.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get policy of bucket %s: %w", bucket, err)
	}
	return []byte(document), nil
}

// DeleteBucketPolicy removes the policy of an existing bucket.
func (s *Store) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireBucket(ctx, tx.StmtContext(ctx, s.writes.bucketExists), bucket); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM bucket_policies WHERE bucket = ?`, bucket); err != nil {
			return fmt.Errorf("delete policy of bucket %s: %w", bucket, err)
		}
		return nil
	})
}

// scanAccessKey reads the accessKeyColumns of one row.
func scanAccessKey(row interface{ Scan(...any) error }) (metadata.AccessKey, error) {
	var (
		k                metadata.AccessKey
		owner            string
		restriction      sql.NullString
		created          int64
		expires, revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.SealedSecret, &k.OwnerID, &owner, &restriction, &k.Description, &created, &expires, &revoked); err != nil {
		return metadata.AccessKey{}, err
	}
	k.Owner = []byte(owner)
	if restriction.Valid {
		k.Restriction = []byte(restriction.String)
	}
	k.Created = fromUnixNano(created)
	if expires.Valid {
		k.Expires = fromUnixNano(expires.Int64)
	}
	if revoked.Valid {
		k.Revoked = fromUnixNano(revoked.Int64)
	}
	return k, nil
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UTC().UnixNano(), Valid: !t.IsZero()}
}

// nullBytes stores nil as NULL.
func nullBytes(b []byte) sql.NullString {
	return sql.NullString{String: string(b), Valid: b != nil}
}

// execOne runs a write that must change a row. It returns an error that
// wraps missing, naming object, when the write changed none, and one
// naming action when it failed.
func (s *Store) execOne(ctx context.Context, action, object string, missing error, query string, args ...any) error {
	res, err := s.writer.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", object, missing)
	}
	return nil
}
