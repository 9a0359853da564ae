package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	headers, err := encodeMap(u.Headers)
	if err != nil {
		return fmt.Errorf("create multipart upload %s: encode headers: %w", u.ID, err)
	}
	userMetadata, err := encodeMap(u.UserMetadata)
	if err != nil {
		return fmt.Errorf("create multipart upload %s: encode user metadata: %w", u.ID, err)
	}

	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireBucket(ctx, tx.StmtContext(ctx, s.writes.bucketExists), u.Bucket); err != nil {
			return err
		}

		const insert = `INSERT INTO multipart_uploads (` + uploadColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`
		res, err := tx.ExecContext(ctx, insert, u.ID, u.Bucket, u.Key, unixNano(u.Created, time.Now()),
			u.ContentType, headers, userMetadata, u.ChecksumAlgorithm, u.ChecksumType)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
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
	u, err := selectUpload(ctx, s.reader, id)
	if err != nil {
		return metadata.MultipartUpload{}, err
	}
	return *u, nil
}

// selectUpload returns the upload, or an error wrapping metadata.ErrNotFound.
func selectUpload(ctx context.Context, q queryRower, id string) (*metadata.MultipartUpload, error) {
	const query = `SELECT ` + uploadColumns + ` FROM multipart_uploads WHERE id = ?`
	u, err := scanUpload(q.QueryRowContext(ctx, query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("multipart upload %s: %w", id, metadata.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get multipart upload %s: %w", id, err)
	}
	return u, nil
}

// PutPart records p, replacing the part with the same number, and returns
// the replaced part, or nil. It returns an error wrapping
// metadata.ErrNotFound when the upload does not exist. A zero p.Modified is
// stored as the current time.
func (s *Store) PutPart(ctx context.Context, p metadata.Part) (*metadata.Part, error) {
	var replaced *metadata.Part
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := selectUpload(ctx, tx, p.UploadID); err != nil {
			return err
		}

		const query = `SELECT ` + partColumns + ` FROM multipart_parts WHERE upload_id = ? AND number = ?`
		old, err := scanPart(tx.QueryRowContext(ctx, query, p.UploadID, p.Number))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("read part row: %w", err)
		default:
			replaced = old
		}

		const upsert = `INSERT INTO multipart_parts (` + partColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (upload_id, number) DO UPDATE SET
				size = excluded.size, etag = excluded.etag, checksum = excluded.checksum,
				storage_key = excluded.storage_key, modified = excluded.modified`
		_, err = tx.ExecContext(ctx, upsert, p.UploadID, p.Number, p.Size, p.ETag, p.Checksum, p.StorageKey,
			unixNano(p.Modified, time.Now()))
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

// ListParts returns up to limit parts of the upload with numbers above
// after, in number order. A limit of zero or less returns every remaining
// part. An upload that does not exist returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) ListParts(ctx context.Context, uploadID string, after, limit int) ([]metadata.Part, error) {
	const query = `SELECT ` + partColumns + ` FROM multipart_parts
		WHERE upload_id = ? AND number > ?
		ORDER BY number LIMIT ?`
	parts, err := queryParts(ctx, s.reader, query, uploadID, after, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list parts of multipart upload %s: %w", uploadID, err)
	}

	// Every part row names an existing upload, so only an empty page needs
	// the check.
	if len(parts) == 0 {
		if _, err := selectUpload(ctx, s.reader, uploadID); err != nil {
			return nil, err
		}
	}
	return parts, nil
}

// ListMultipartUploads returns up to limit uploads of bucket whose keys
// start with prefix, ordered by key, then creation time, then ID. The page
// starts after the (keyAfter, idAfter) cursor. With an empty idAfter that is
// the first key above keyAfter. Otherwise it is the upload after idAfter
// when idAfter is an upload of keyAfter, which keeps pages apart when IDs do
// not sort in creation order, and else the first upload of keyAfter with an
// ID above idAfter. A limit of zero or less returns every remaining upload.
// A bucket that does not exist returns an error wrapping
// metadata.ErrNotFound.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) ([]metadata.MultipartUpload, error) {
	var markerCreated sql.NullInt64
	if idAfter != "" {
		const marker = `SELECT created FROM multipart_uploads WHERE id = ? AND bucket = ? AND key = ?`
		err := s.reader.QueryRowContext(ctx, marker, idAfter, bucket, keyAfter).Scan(&markerCreated)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("list multipart uploads of %s: look up upload %s: %w", bucket, idAfter, err)
		}
	}

	upper, bounded := prefixUpperBound(prefix)
	query := listUploadsQuery(bounded)
	rows, err := s.reader.QueryContext(ctx, query, bucket, max(prefix, keyAfter), upper,
		keyAfter, idAfter, markerCreated, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
	}
	defer rows.Close()

	var uploads []metadata.MultipartUpload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
		}
		uploads = append(uploads, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
	}

	if len(uploads) == 0 {
		if err := requireBucket(ctx, s.read.bucketExists, bucket); err != nil {
			return nil, err
		}
	}
	return uploads, nil
}

// listUploadsQuery returns the query of ListMultipartUploads, with an upper
// bound on keys when bounded is true. Its parameters are the bucket, the
// lower bound, the upper bound (ignored when unbounded), the cursor key and
// ID, the creation time of the cursor upload or NULL, and the limit. The
// scan of multipart_uploads_by_key runs from the lower bound, which is the
// larger of the prefix and the cursor key, up to the prefix's upper bound.
// Uploads of the cursor key itself are few, so filtering them costs little.
func listUploadsQuery(bounded bool) string {
	query := `SELECT ` + uploadColumns + ` FROM multipart_uploads
		WHERE bucket = ?1 AND key >= ?2`
	if bounded {
		query += ` AND key < ?3`
	}
	return query + ` AND (key > ?4 OR (key = ?4 AND ?5 <> '' AND (
			(?6 IS NULL AND id > ?5)
			OR created > ?6
			OR (created = ?6 AND id > ?5))))
		ORDER BY key, created, id LIMIT ?7`
}

// listUploadsBeforeQuery selects the uploads created before a time, oldest first.
const listUploadsBeforeQuery = `SELECT ` + uploadColumns + ` FROM multipart_uploads
	WHERE created < ?
	ORDER BY created, id LIMIT ?`

// ListMultipartUploadsBefore returns up to limit uploads, of any bucket,
// created before t, oldest first. A limit of zero or less returns all of
// them.
func (s *Store) ListMultipartUploadsBefore(ctx context.Context, t time.Time, limit int) ([]metadata.MultipartUpload, error) {
	rows, err := s.reader.QueryContext(ctx, listUploadsBeforeQuery, t.UTC().UnixNano(), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list multipart uploads created before %s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	defer rows.Close()

	var uploads []metadata.MultipartUpload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads created before %s: %w", t.UTC().Format(time.RFC3339Nano), err)
		}
		uploads = append(uploads, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list multipart uploads created before %s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	return uploads, nil
}

// CompleteMultipartUpload stores o as PutObject does, after checking cond,
// and removes the upload and its parts, all in one transaction. It returns
// the replaced object, or nil, and every part row of the upload in number
// order. It returns an error wrapping metadata.ErrNotFound when the upload
// does not exist or belongs to another bucket or key than o, and one
// wrapping metadata.ErrPreconditionFailed when cond does not hold, in which
// case the upload stays.
func (s *Store) CompleteMultipartUpload(ctx context.Context, id string, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, []metadata.Part, error) {
	var (
		replaced *metadata.Object
		parts    []metadata.Part
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		u, err := selectUpload(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.Bucket != o.Bucket || u.Key != o.Key {
			return fmt.Errorf("multipart upload %s for %q in %s: %w", id, o.Key, o.Bucket, metadata.ErrNotFound)
		}

		if replaced, err = s.storeObject(ctx, tx, o, cond, time.Now()); err != nil {
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
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := selectUpload(ctx, tx, id); err != nil {
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
func deleteUploadRows(ctx context.Context, tx *sql.Tx, id string) ([]metadata.Part, error) {
	const query = `SELECT ` + partColumns + ` FROM multipart_parts WHERE upload_id = ? ORDER BY number`
	parts, err := queryParts(ctx, tx, query, id)
	if err != nil {
		return nil, fmt.Errorf("read part rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM multipart_parts WHERE upload_id = ?`, id); err != nil {
		return nil, fmt.Errorf("delete part rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM multipart_uploads WHERE id = ?`, id); err != nil {
		return nil, fmt.Errorf("delete upload row: %w", err)
	}
	return parts, nil
}

// querier is the query method that *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryParts runs a query that selects partColumns and returns its rows.
func queryParts(ctx context.Context, q querier, query string, args ...any) ([]metadata.Part, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var parts []metadata.Part
	for rows.Next() {
		p, err := scanPart(rows)
		if err != nil {
			return nil, err
		}
		parts = append(parts, *p)
	}
	return parts, rows.Err()
}

// scanPart reads one row of partColumns.
func scanPart(row rowScanner) (*metadata.Part, error) {
	p := &metadata.Part{}
	var modified int64
	if err := row.Scan(&p.UploadID, &p.Number, &p.Size, &p.ETag, &p.Checksum, &p.StorageKey, &modified); err != nil {
		return nil, err
	}
	p.Modified = fromUnixNano(modified)
	return p, nil
}

// scanUpload reads one row of uploadColumns.
func scanUpload(row rowScanner) (*metadata.MultipartUpload, error) {
	u := &metadata.MultipartUpload{}
	var (
		created               int64
		headers, userMetadata sql.NullString
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
