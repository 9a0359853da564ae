package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cofferhq/coffer/internal/metadata"
)

// ListMultipartUploads returns up to limit uploads of bucket whose keys
// start with prefix, ordered by key, then creation time, then ID. The page
// starts after the (keyAfter, idAfter) cursor. With an empty idAfter that is
// the first key above keyAfter. Otherwise it is the upload after idAfter
// when idAfter is an upload of keyAfter, which keeps pages apart when IDs do
// not sort in creation order, and else the first upload of keyAfter with an
// ID above idAfter. Prefix and cursor may be any bytes, also invalid UTF-8.
// A limit of zero or less returns every remaining upload. A bucket that does
// not exist returns an error wrapping metadata.ErrNotFound.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) ([]metadata.MultipartUpload, error) {
	var uploads []metadata.MultipartUpload
	if query, args, ok, err := s.listUploadsQuery(ctx, bucket, prefix, keyAfter, idAfter, limit); err != nil {
		return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
	} else if ok {
		rows, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
		}
		if uploads, err = collectUploads(rows); err != nil {
			return nil, fmt.Errorf("list multipart uploads of %s: %w", bucket, err)
		}
	}

	if len(uploads) == 0 {
		if err := requireBucket(ctx, s.pool, bucket); err != nil {
			return nil, err
		}
	}
	return uploads, nil
}

// listUploadsQuery returns the query of a ListMultipartUploads page and its
// arguments, or reports false when no upload can be on the page. The query
// scans multipart_uploads_by_key from the larger of the prefix and the
// cursor key up to the prefix's upper bound. Uploads of the cursor key
// itself are few, so filtering them by creation time and ID costs little.
// Strict comparisons with the cursor are written as >= with the smallest
// storable string above it (see ceilText), which also works when the cursor
// is not storable.
func (s *Store) listUploadsQuery(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) (string, []any, bool, error) {
	kr, ok := listRange(prefix, "")
	if !ok {
		return "", nil, false, nil
	}
	// Uploads of keyAfter itself may follow the cursor, so the scan starts
	// at keyAfter, or at the first storable key above it.
	atCursor, ok := ceilText(keyAfter)
	if !ok {
		return "", nil, false, nil
	}
	kr.lower = max(kr.lower, atCursor)
	if kr.bounded && kr.lower >= kr.upper {
		return "", nil, false, nil
	}

	var markerCreated *int64
	if idAfter != "" && storable(idAfter) && storable(keyAfter) {
		const marker = `SELECT created FROM multipart_uploads WHERE id = $1 AND bucket = $2 AND key = $3`
		err := s.pool.QueryRow(ctx, marker, idAfter, bucket, keyAfter).Scan(&markerCreated)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return "", nil, false, fmt.Errorf("look up upload %s: %w", idAfter, err)
		}
	}

	var args queryArgs
	query := `SELECT ` + uploadColumns + ` FROM multipart_uploads
		WHERE bucket = ` + args.add(bucket) + ` AND key >= ` + args.add(kr.lower)
	if kr.bounded {
		query += ` AND key < ` + args.add(kr.upper)
	}
	// Keys above keyAfter; NULL, which matches nothing, when there are none.
	query += ` AND (key >= ` + args.add(textAbove(keyAfter))
	if idAfter != "" && storable(keyAfter) {
		keyParam, idParam, createdParam := args.add(keyAfter), args.add(textAbove(idAfter)), args.add(markerCreated)
		query += ` OR (key = ` + keyParam + ` AND (
				(` + createdParam + `::bigint IS NULL AND id >= ` + idParam + `)
				OR created > ` + createdParam + `
				OR (created = ` + createdParam + ` AND id >= ` + idParam + `)))`
	}
	query += `)
		ORDER BY key, created, id LIMIT ` + args.add(sqlLimit(limit))
	return query, args, true, nil
}

// textAbove returns the smallest storable string above s, or nil when there
// is none.
func textAbove(s string) *string {
	above, ok := ceilText(s + "\x00")
	if !ok {
		return nil
	}
	return &above
}

// listUploadsBeforeQuery selects the uploads created before a time, oldest first.
const listUploadsBeforeQuery = `SELECT ` + uploadColumns + ` FROM multipart_uploads
	WHERE created < $1
	ORDER BY created, id LIMIT $2`

// ListMultipartUploadsBefore returns up to limit uploads, of any bucket,
// created before t, oldest first. A limit of zero or less returns all of
// them.
func (s *Store) ListMultipartUploadsBefore(ctx context.Context, t time.Time, limit int) ([]metadata.MultipartUpload, error) {
	rows, err := s.pool.Query(ctx, listUploadsBeforeQuery, t.UTC().UnixNano(), sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list multipart uploads created before %s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	uploads, err := collectUploads(rows)
	if err != nil {
		return nil, fmt.Errorf("list multipart uploads created before %s: %w", t.UTC().Format(time.RFC3339Nano), err)
	}
	return uploads, nil
}

// collectUploads reads every row of a query that selects uploadColumns.
func collectUploads(rows pgx.Rows) ([]metadata.MultipartUpload, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.MultipartUpload, error) {
		u, err := scanUpload(row)
		if err != nil {
			return metadata.MultipartUpload{}, err
		}
		return *u, nil
	})
}
