package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// uploadColumns are the columns scanUpload reads, in its order.
const uploadColumns = `id, bucket, key, created, content_type, headers, user_metadata,
	checksum_algorithm, checksum_type`

// partColumns are the columns scanPart reads, in its order.
const partColumns = `upload_id, number, size, etag, checksum, storage_key, modified`

// CreateMultipartUpload records u. It returns an error wrapping
// metadata.ErrNotFound when the bucket does not exist, and one wrapping
// metadata.ErrAlreadyExists when the ID is in use. A zero u.Created is
// stored as the current time.
func (s *Store) CreateMultipartUpload(ctx context.Context, u metadata.MultipartUpload) error {
	if !storable(u.ID) || !storable(u.Key) {
		return fmt.Errorf("create multipart upload %q for %q in %s: the ID and key must be valid UTF-8 without NUL bytes",
			u.ID, u.Key, u.Bucket)
	}
	headers, err := encodeMap(u.Headers)
	if err != nil {
		return fmt.Errorf("create multipart upload %s: encode headers: %w", u.ID, err)
	}
	userMetadata, err := encodeMap(u.UserMetadata)
	if err != nil {
		return fmt.Errorf("create multipart upload %s: encode user metadata: %w", u.ID, err)
	}

	err = s.write(ctx, func(tx pgx.Tx) error {
		if err := lockBucket(ctx, tx, u.Bucket, "FOR KEY SHARE"); err != nil {
			return err
		}

		const insert = `INSERT INTO multipart_uploads (` + uploadColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO NOTHING`
		result, err := tx.Exec(ctx, insert, u.ID, u.Bucket, u.Key, unixNano(u.Created, time.Now()),
			u.ContentType, headers, userMetadata, u.ChecksumAlgorithm, u.ChecksumType)
		if err != nil {
			return err
		}
		if result.RowsAffected() == 0 {
			return fmt.Errorf("multipart upload %s: %w", u.ID, metadata.ErrAlreadyExists)
		}
		return nil
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrAlreadyExists) {
		return err
	}
	if err != nil {
		return fmt.Errorf("create multipart upload %s for %q in %s: %w", u.ID, u.Key, u.Bucket, err)
	}
	return nil
}

// GetMultipartUpload returns the upload, or an error wrapping
// metadata.ErrNotFound.
func (s *Store) GetMultipartUpload(ctx context.Context, id string) (metadata.MultipartUpload, error) {
	u, err := selectUpload(ctx, s.pool, id, "")
	if err != nil {
		return metadata.MultipartUpload{}, err
	}
	return *u, nil
}

// selectUpload returns the upload, locked with the given locking clause, or
// an error wrapping metadata.ErrNotFound.
func selectUpload(ctx context.Context, q queryer, id, locking string) (*metadata.MultipartUpload, error) {
	notFound := fmt.Errorf("multipart upload %q: %w", id, metadata.ErrNotFound)
	if !storable(id) {
		return nil, notFound
	}
	query := `SELECT ` + uploadColumns + ` FROM multipart_uploads WHERE id = $1 ` + locking
	u, err := scanUpload(q.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	if err != nil {
		return nil, fmt.Errorf("get multipart upload %s: %w", id, err)
	}
	return u, nil
}

// PutPart records p, replacing the part with the same number, and returns
// the replaced part, or nil. It returns an error wrapping
// metadata.ErrNotFound when the upload does not exist. A zero p.Modified is
// stored as the current time. The upload row is held with FOR KEY SHARE, so
// a concurrent completion or abort either sees this part or makes this call
// find the upload gone. Concurrent calls for one part number each return
// the part they replaced, so every replaced part is returned exactly once.
func (s *Store) PutPart(ctx context.Context, p metadata.Part) (*metadata.Part, error) {
	var replaced *metadata.Part
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := selectUpload(ctx, tx, p.UploadID, "FOR KEY SHARE"); err != nil {
			return err
		}
		var err error
		replaced, err = storePart(ctx, tx, p, time.Now())
		return err
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("put part %d of multipart upload %s: %w", p.Number, p.UploadID, err)
	}
	return replaced, nil
}

// storePart writes p over the part with the same number, which it locks
// first, and returns the replaced part, or nil. Like storeObject, it reads
// again when a concurrent transaction inserts the same number first.
func storePart(ctx context.Context, tx pgx.Tx, p metadata.Part, now time.Time) (*metadata.Part, error) {
	modified := unixNano(p.Modified, now)
	for range maxRowRaces {
		const query = `SELECT ` + partColumns + ` FROM multipart_parts WHERE upload_id = $1 AND number = $2 FOR UPDATE`
		old, err := scanPart(tx.QueryRow(ctx, query, p.UploadID, p.Number))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			const insert = `INSERT INTO multipart_parts (` + partColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (upload_id, number) DO NOTHING`
			result, err := tx.Exec(ctx, insert, p.UploadID, p.Number, p.Size, p.ETag, p.Checksum, p.StorageKey, modified)
			if err != nil {
				return nil, fmt.Errorf("insert part row: %w", err)
			}
			if result.RowsAffected() == 1 {
				return nil, nil
			}
			// A concurrent transaction inserted the number first: read it again.
		case err != nil:
			return nil, fmt.Errorf("read part row: %w", err)
		default:
			const update = `UPDATE multipart_parts SET size = $3, etag = $4, checksum = $5, storage_key = $6, modified = $7
				WHERE upload_id = $1 AND number = $2`
			if _, err := tx.Exec(ctx, update, p.UploadID, p.Number, p.Size, p.ETag, p.Checksum, p.StorageKey, modified); err != nil {
				return nil, fmt.Errorf("update part row: %w", err)
			}
			return old, nil
		}
	}
	return nil, fmt.Errorf("part %d was created and deleted concurrently %d times", p.Number, maxRowRaces)
}

// ListParts returns up to limit parts of the upload with numbers above
// after, in number order. A limit of zero or less returns every remaining
// part. An upload that does not exist returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) ListParts(ctx context.Context, uploadID string, after, limit int) ([]metadata.Part, error) {
	if !storable(uploadID) {
		return nil, fmt.Errorf("multipart upload %q: %w", uploadID, metadata.ErrNotFound)
	}
	const query = `SELECT ` + partColumns + ` FROM multipart_parts
		WHERE upload_id = $1 AND number > $2
		ORDER BY number LIMIT $3`
	rows, err := s.pool.Query(ctx, query, uploadID, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list parts of multipart upload %s: %w", uploadID, err)
	}
	parts, err := collectParts(rows)
	if err != nil {
		return nil, fmt.Errorf("list parts of multipart upload %s: %w", uploadID, err)
	}

	// Every part row names an existing upload, so only an empty page needs
	// the check.
	if len(parts) == 0 {
		if _, err := selectUpload(ctx, s.pool, uploadID, ""); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// CompleteMultipartUpload stores o as PutObject does, after checking cond,
// and removes the upload and its parts, all in one transaction. It returns
// the replaced object, or nil, and every part row of the upload in number
// order. It returns an error wrapping metadata.ErrNotFound when the upload
// does not exist or belongs to another bucket or key than o, and one
// wrapping metadata.ErrPreconditionFailed when cond does not hold, in which
// case the upload stays. Of two concurrent completions or aborts of one
// upload, the second waits for the first's lock on the upload row and then
// finds it gone.
func (s *Store) CompleteMultipartUpload(ctx context.Context, id string, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, []metadata.Part, error) {
	row, err := encodeObject(o)
	if err != nil {
		return nil, nil, fmt.Errorf("complete multipart upload %s as %q in %s: %w", id, o.Key, o.Bucket, err)
	}

	var (
		replaced *metadata.Object
		parts    []metadata.Part
	)
	err = s.write(ctx, func(tx pgx.Tx) error {
		// The locked upload row keeps its bucket: DeleteBucket rejects a
		// bucket that has uploads.
		u, err := selectUpload(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if u.Bucket != o.Bucket || u.Key != o.Key {
			return fmt.Errorf("multipart upload %s for %q in %s: %w", id, o.Key, o.Bucket, metadata.ErrNotFound)
		}

		if replaced, err = storeObject(ctx, tx, o, row, cond, time.Now()); err != nil {
			return err
		}
		if parts, err = deleteUploadRows(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, metadata.Change{Kind: metadata.ObjectCreated, Object: o})
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrPreconditionFailed) {
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, fmt.Errorf("complete multipart upload %s as %q in %s: %w", id, o.Key, o.Bucket, err)
	}
	return replaced, parts, nil
}

// AbortMultipartUpload removes the upload and its parts and returns the
// parts in number order, or returns an error wrapping metadata.ErrNotFound.
func (s *Store) AbortMultipartUpload(ctx context.Context, id string) ([]metadata.Part, error) {
	var parts []metadata.Part
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := selectUpload(ctx, tx, id, "FOR UPDATE"); err != nil {
			return err
		}
		var err error
		parts, err = deleteUploadRows(ctx, tx, id)
		return err
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("abort multipart upload %s: %w", id, err)
	}
	return parts, nil
}

// deleteUploadRows deletes the upload's part rows and its row, and returns
// the part rows in number order.
func deleteUploadRows(ctx context.Context, tx pgx.Tx, id string) ([]metadata.Part, error) {
	rows, err := tx.Query(ctx, `DELETE FROM multipart_parts WHERE upload_id = $1 RETURNING `+partColumns, id)
	if err != nil {
		return nil, fmt.Errorf("delete part rows: %w", err)
	}
	parts, err := collectParts(rows)
	if err != nil {
		return nil, fmt.Errorf("delete part rows: %w", err)
	}
	slices.SortFunc(parts, func(a, b metadata.Part) int { return cmp.Compare(a.Number, b.Number) })

	if _, err := tx.Exec(ctx, `DELETE FROM multipart_uploads WHERE id = $1`, id); err != nil {
		return nil, fmt.Errorf("delete upload row: %w", err)
	}
	return parts, nil
}

// collectParts reads every row of a query that selects partColumns.
func collectParts(rows pgx.Rows) ([]metadata.Part, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Part, error) {
		p, err := scanPart(row)
		if err != nil {
			return metadata.Part{}, err
		}
		return *p, nil
	})
}

// scanPart reads one row of partColumns.
func scanPart(row pgx.Row) (*metadata.Part, error) {
	p := &metadata.Part{}
	var modified int64
	if err := row.Scan(&p.UploadID, &p.Number, &p.Size, &p.ETag, &p.Checksum, &p.StorageKey, &modified); err != nil {
		return nil, err
	}
	p.Modified = fromUnixNano(modified)
	return p, nil
}

// scanUpload reads one row of uploadColumns.
func scanUpload(row pgx.Row) (*metadata.MultipartUpload, error) {
	u := &metadata.MultipartUpload{}
	var (
		created               int64
		headers, userMetadata *string
	)
	err := row.Scan(&u.ID, &u.Bucket, &u.Key, &created, &u.ContentType, &headers, &userMetadata,
		&u.ChecksumAlgorithm, &u.ChecksumType)
	if err != nil {
		return nil, err
	}
	u.Created = fromUnixNano(created)
	if u.Headers, err = decodeMap(headers); err != nil {
		return nil, fmt.Errorf("decode headers of multipart upload %s: %w", u.ID, err)
	}
	if u.UserMetadata, err = decodeMap(userMetadata); err != nil {
		return nil, fmt.Errorf("decode user metadata of multipart upload %s: %w", u.ID, err)
	}
	return u, nil
}
