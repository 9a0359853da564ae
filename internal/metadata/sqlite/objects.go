package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// The map fields of objects and multipart uploads (Headers, UserMetadata,
// Checksums) are stored as a JSON object, and an empty or nil map as NULL,
// so both read back as nil. Parts of a single-PUT object, nil or empty, also
// read back as nil.

// objectColumns are the columns scanObject reads, in its order.
const objectColumns = `bucket, key, blob, size, etag, content_type, headers, user_metadata,
	checksums, checksum_type, parts, modified`

// getObjectQuery selects an object by bucket and key.
const getObjectQuery = `SELECT ` + objectColumns + ` FROM objects WHERE bucket = ? AND key = ?`

// readObjectQuery is getObjectQuery with the location of the content's
// blob row, or NULL without one, so that one query serves a read.
const readObjectQuery = `SELECT ` + objectColumns + `,
	(SELECT location FROM blobs WHERE digest = objects.blob)
	FROM objects WHERE bucket = ? AND key = ?`

// referenceBlobQuery adds one reference to a blob, creating its row for
// the first one.
const referenceBlobQuery = `INSERT INTO blobs (digest, size, created, refcount, location) VALUES (?, ?, ?, 1, ?)
	ON CONFLICT (digest) DO UPDATE SET refcount = refcount + 1, location = ` + repairLocation

// upsertObjectQuery writes an object's row over any row under its key.
const upsertObjectQuery = `INSERT INTO objects (` + objectColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (bucket, key) DO UPDATE SET
		blob = excluded.blob, size = excluded.size, etag = excluded.etag,
		content_type = excluded.content_type, headers = excluded.headers,
		user_metadata = excluded.user_metadata, checksums = excluded.checksums,
		checksum_type = excluded.checksum_type, parts = excluded.parts,
		modified = excluded.modified`

// deleteObjectQuery removes an object's row.
const deleteObjectQuery = `DELETE FROM objects WHERE bucket = ? AND key = ?`

// releaseBlobQuery takes one reference from a blob, never below zero.
const releaseBlobQuery = `UPDATE blobs SET refcount = max(refcount - 1, 0) WHERE digest = ?`

// listObjectsQuery selects a page of a bucket's objects with keys at or
// above a lower bound, and listObjectsBelowQuery one with keys also below an
// exclusive upper bound. Both are a range scan of the primary key that stops
// after LIMIT rows, so the cost of a page does not depend on the size of the
// bucket. They take one lower bound, the tighter of the cursor and the
// prefix, because SQLite 3.54 starts the scan at the first of two lower
// bounds on key and checks the second row by row: with "key > ? AND key >= ?"
// a cursor 150,000 keys into the prefix made a page 200 times slower.
const (
	listObjectsQuery = `SELECT ` + objectColumns + ` FROM objects
		WHERE bucket = ? AND key >= ?
		ORDER BY key LIMIT ?`
	listObjectsBelowQuery = `SELECT ` + objectColumns + ` FROM objects
		WHERE bucket = ? AND key >= ? AND key < ?
		ORDER BY key LIMIT ?`
)

// PutObject stores o after checking cond against the object stored under
// the same key, and returns the replaced object, or nil when the key was
// free. It returns an error wrapping metadata.ErrNotFound when the bucket
// does not exist and one wrapping metadata.ErrPreconditionFailed when cond
// does not hold. In the same transaction o.Blob gains a reference (its blob
// row is created with size o.Size if needed) and the replaced object's blob
// loses one. A zero o.Modified is stored as the current time.
func (s *Store) PutObject(ctx context.Context, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, error) {
	var replaced *metadata.Object
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := requireBucket(ctx, tx.StmtContext(ctx, s.writes.bucketExists), o.Bucket); err != nil {
			return err
		}
		var err error
		if replaced, err = s.storeObject(ctx, tx, o, cond, time.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, metadata.Change{Kind: metadata.ObjectCreated, Object: o})
	})
	if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrPreconditionFailed) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("put object %q in %s: %w", o.Key, o.Bucket, err)
	}
	return replaced, nil
}

// storeObject checks cond, writes o's row over any object under the same
// key and moves one blob reference from the replaced object to o. The bucket
// must exist. It returns the replaced object, or nil.
func (s *Store) storeObject(ctx context.Context, tx *sql.Tx, o *metadata.Object, cond metadata.Precondition, now time.Time) (*metadata.Object, error) {
	current, err := selectObject(ctx, tx.StmtContext(ctx, s.writes.getObject), o.Bucket, o.Key)
	if err != nil {
		return nil, err
	}
	if err := checkPrecondition(o.Bucket, o.Key, current, cond); err != nil {
		return nil, err
	}

	row, err := encodeObject(o)
	if err != nil {
		return nil, err
	}

	// Take the new reference before releasing the old one, so replacing an
	// object with one of the same content never takes the count below 1.
	if _, err := tx.StmtContext(ctx, s.writes.referenceBlob).ExecContext(ctx, string(o.Blob), o.Size, now.UTC().UnixNano(), o.BlobLocation); err != nil {
		return nil, fmt.Errorf("count reference to blob %s: %w", o.Blob, err)
	}

	_, err = tx.StmtContext(ctx, s.writes.upsertObject).ExecContext(ctx, o.Bucket, o.Key, string(o.Blob), o.Size, o.ETag, o.ContentType,
		row.headers, row.userMetadata, row.checksums, o.ChecksumType, row.parts, unixNano(o.Modified, now))
	if err != nil {
		return nil, fmt.Errorf("write object row: %w", err)
	}

	if current != nil {
		if err := releaseBlob(ctx, tx.StmtContext(ctx, s.writes.releaseBlob), current.Blob); err != nil {
			return nil, err
		}
	}
	return current, nil
}

// checkPrecondition returns an error wrapping
// metadata.ErrPreconditionFailed when cond does not hold for current, the
// object stored under bucket and key, or nil when the key is free.
func checkPrecondition(bucket, key string, current *metadata.Object, cond metadata.Precondition) error {
	if cond.IfNoneMatchAny && current != nil {
		return fmt.Errorf("object %q in %s exists: %w", key, bucket, metadata.ErrPreconditionFailed)
	}
	if cond.IfMatch == "" {
		return nil
	}
	if current == nil {
		return fmt.Errorf("object %q in %s does not exist to match ETag %q: %w",
			key, bucket, cond.IfMatch, metadata.ErrPreconditionFailed)
	}
	if current.ETag != cond.IfMatch {
		return fmt.Errorf("object %q in %s has ETag %q, not %q: %w",
			key, bucket, current.ETag, cond.IfMatch, metadata.ErrPreconditionFailed)
	}
	return nil
}

// releaseBlob takes one reference from blob d. The count stays at zero
// rather than going below it.
func releaseBlob(ctx context.Context, release *sql.Stmt, d digest.Digest) error {
	if _, err := release.ExecContext(ctx, string(d)); err != nil {
		return fmt.Errorf("release reference to blob %s: %w", d, err)
	}
	return nil
}

// selectObject returns the object stored under bucket and key, or nil when
// there is none.
func selectObject(ctx context.Context, get *sql.Stmt, bucket, key string) (*metadata.Object, error) {
	o, err := scanObject(get.QueryRowContext(ctx, bucket, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read object %q in %s: %w", key, bucket, err)
	}
	return o, nil
}

// GetObject returns the object, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*metadata.Object, error) {
	var location *string
	o, err := scanObject(s.read.readObject.QueryRowContext(ctx, bucket, key), &location)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("object %q in %s: %w", key, bucket, metadata.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get object %q in %s: %w", key, bucket, err)
	}
	o.ContentUnavailable = metadata.ContentUnavailable(location)
	return o, nil
}

// DeleteObject removes the object and returns it, or returns an error
// wrapping metadata.ErrNotFound. Its blob loses one reference in the same
// transaction.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) (*metadata.Object, error) {
	var deleted *metadata.Object
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		deleted, err = selectObject(ctx, tx.StmtContext(ctx, s.writes.getObject), bucket, key)
		if err != nil {
			return err
		}
		if deleted == nil {
			return fmt.Errorf("object %q in %s: %w", key, bucket, metadata.ErrNotFound)
		}

		if _, err := tx.StmtContext(ctx, s.writes.deleteObject).ExecContext(ctx, bucket, key); err != nil {
			return fmt.Errorf("delete object row: %w", err)
		}
		if err := releaseBlob(ctx, tx.StmtContext(ctx, s.writes.releaseBlob), deleted.Blob); err != nil {
			return err
		}
		return s.record(ctx, tx, metadata.Change{Kind: metadata.ObjectDeleted, Object: deleted})
	})
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("delete object %q in %s: %w", key, bucket, err)
	}
	return deleted, nil
}

// ListObjects returns up to limit objects of bucket whose keys start with
// prefix and sort after the cursor, in byte order. A limit of zero or less
// returns every remaining object. A bucket that does not exist returns an
// error wrapping metadata.ErrNotFound.
func (s *Store) ListObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]metadata.Object, error) {
	lower := keyLowerBound(prefix, after)
	var (
		rows *sql.Rows
		err  error
	)
	if upper, ok := prefixUpperBound(prefix); ok {
		rows, err = s.read.listObjectsBelow.QueryContext(ctx, bucket, lower, upper, sqlLimit(limit))
	} else {
		rows, err = s.read.listObjects.QueryContext(ctx, bucket, lower, sqlLimit(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("list objects of %s: %w", bucket, err)
	}
	defer rows.Close()

	var objects []metadata.Object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, fmt.Errorf("list objects of %s: %w", bucket, err)
		}
		objects = append(objects, *o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list objects of %s: %w", bucket, err)
	}

	// Every object row names an existing bucket, so only an empty page
	// needs the check.
	if len(objects) == 0 {
		if err := requireBucket(ctx, s.read.bucketExists, bucket); err != nil {
			return nil, err
		}
	}
	return objects, nil
}

// keyLowerBound returns the smallest key that a listing of the keys that
// start with prefix and sort after the cursor can return. The smallest
// string that sorts after a string in byte order is that string followed by
// a NUL byte.
func keyLowerBound(prefix, after string) string {
	if after >= prefix {
		return after + "\x00"
	}
	return prefix
}

// prefixUpperBound returns the smallest string above every string that
// starts with prefix, in byte order: prefix without its trailing 0xFF bytes,
// with the last remaining byte incremented. It reports false when there is
// no such bound, because prefix is empty or all 0xFF bytes. The bound may be
// invalid UTF-8, which SQLite compares byte by byte like any other text.
func prefixUpperBound(prefix string) (string, bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}

// rowScanner is the Scan method that *sql.Row and *sql.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}

// scanObject reads one row of objectColumns, followed by the columns that
// extra receives.
func scanObject(row rowScanner, extra ...any) (*metadata.Object, error) {
	o := &metadata.Object{}
	var (
		blob                                string
		headers, userMetadata, checksums, p sql.NullString
		modified                            int64
	)
	columns := []any{&o.Bucket, &o.Key, &blob, &o.Size, &o.ETag, &o.ContentType,
		&headers, &userMetadata, &checksums, &o.ChecksumType, &p, &modified}
	err := row.Scan(append(columns, extra...)...)
	if err != nil {
		return nil, err
	}
	o.Blob = digest.Digest(blob)
	o.Modified = fromUnixNano(modified)

	for _, field := range []struct {
		name   string
		stored sql.NullString
		into   *map[string]string
	}{
		{"headers", headers, &o.Headers},
		{"user metadata", userMetadata, &o.UserMetadata},
		{"checksums", checksums, &o.Checksums},
	} {
		if *field.into, err = decodeMap(field.stored); err != nil {
			return nil, fmt.Errorf("decode %s of object %q: %w", field.name, o.Key, err)
		}
	}
	if o.Parts, err = decodeParts(p); err != nil {
		return nil, fmt.Errorf("decode parts of object %q: %w", o.Key, err)
	}
	return o, nil
}

// objectRow contains the JSON columns of an object row.
type objectRow struct {
	headers, userMetadata, checksums, parts sql.NullString
}

// encodeObject encodes the map and part fields of o for its row.
func encodeObject(o *metadata.Object) (objectRow, error) {
	var (
		row objectRow
		err error
	)
	if row.headers, err = encodeMap(o.Headers); err != nil {
		return row, fmt.Errorf("encode headers: %w", err)
	}
	if row.userMetadata, err = encodeMap(o.UserMetadata); err != nil {
		return row, fmt.Errorf("encode user metadata: %w", err)
	}
	if row.checksums, err = encodeMap(o.Checksums); err != nil {
		return row, fmt.Errorf("encode checksums: %w", err)
	}
	if row.parts, err = encodeParts(o.Parts); err != nil {
		return row, fmt.Errorf("encode parts: %w", err)
	}
	return row, nil
}

// encodeMap returns m as a JSON object, or NULL when m is empty.
func encodeMap(m map[string]string) (sql.NullString, error) {
	if len(m) == 0 {
		return sql.NullString{}, nil
	}
	encoded, err := json.Marshal(m)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(encoded), Valid: true}, nil
}

// decodeMap reads a column that encodeMap wrote. NULL reads as nil.
func decodeMap(stored sql.NullString) (map[string]string, error) {
	if !stored.Valid {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(stored.String), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// storedPart is the JSON form of a metadata.ObjectPart in objects.parts. It
// has its own field names so that renaming a Go field does not change the
// stored format.
type storedPart struct {
	Number   int    `json:"number"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum,omitempty"`
}

// encodeParts returns parts as a JSON array, or NULL when there are none.
func encodeParts(parts []metadata.ObjectPart) (sql.NullString, error) {
	if len(parts) == 0 {
		return sql.NullString{}, nil
	}
	stored := make([]storedPart, len(parts))
	for i, p := range parts {
		stored[i] = storedPart{Number: p.Number, Size: p.Size, Checksum: p.Checksum}
	}
	encoded, err := json.Marshal(stored)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(encoded), Valid: true}, nil
}

// decodeParts reads a column that encodeParts wrote. NULL reads as nil.
func decodeParts(stored sql.NullString) ([]metadata.ObjectPart, error) {
	if !stored.Valid {
		return nil, nil
	}
	var parts []storedPart
	if err := json.Unmarshal([]byte(stored.String), &parts); err != nil {
		return nil, err
	}
	out := make([]metadata.ObjectPart, len(parts))
	for i, p := range parts {
		out[i] = metadata.ObjectPart{Number: p.Number, Size: p.Size, Checksum: p.Checksum}
	}
	return out, nil
}
