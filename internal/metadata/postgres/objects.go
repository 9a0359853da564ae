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

// objectColumns are the columns scanObject reads, in its order.
const objectColumns = `bucket, key, blob, size, etag, content_type, headers, user_metadata,
	checksums, checksum_type, parts, modified`

// getObjectQuery selects an object by bucket and key.
const getObjectQuery = `SELECT ` + objectColumns + ` FROM objects WHERE bucket = $1 AND key = $2`

// readObjectQuery is getObjectQuery with the location of the content's
// blob row, or NULL without one, so that one query serves a read.
const readObjectQuery = `SELECT ` + objectColumns + `,
	(SELECT location FROM blobs WHERE digest = objects.blob)
	FROM objects WHERE bucket = $1 AND key = $2`

// PutObject stores o after checking cond against the object stored under
// the same key, and returns the replaced object, or nil when the key was
// free. It returns an error wrapping metadata.ErrNotFound when the bucket
// does not exist and one wrapping metadata.ErrPreconditionFailed when cond
// does not hold. In the same transaction o.Blob gains a reference (its blob
// row is created with size o.Size if needed) and the replaced object's blob
// loses one. A zero o.Modified is stored as the current time.
func (s *Store) PutObject(ctx context.Context, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, error) {
	if !storable(o.Key) {
		return nil, fmt.Errorf("put object %q in %s: the key must be valid UTF-8 without NUL bytes", o.Key, o.Bucket)
	}
	row, err := encodeObject(o)
	if err != nil {
		return nil, fmt.Errorf("put object %q in %s: %w", o.Key, o.Bucket, err)
	}

	var replaced *metadata.Object
	err = s.write(ctx, func(tx pgx.Tx) error {
		if err := lockBucket(ctx, tx, o.Bucket, "FOR KEY SHARE"); err != nil {
			return err
		}
		var err error
		if replaced, err = storeObject(ctx, tx, o, row, cond, time.Now()); err != nil {
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
// must exist, and a lock on it or on one of its uploads must keep it until
// the transaction ends. It returns the replaced object, or nil.
//
// The current object is read with FOR UPDATE, so a concurrent write of the
// same key waits and then sees this one's result. When the key is free there
// is no row to lock: the insert then does nothing if a concurrent
// transaction inserted the key first, and the loop reads and locks that row.
func storeObject(ctx context.Context, tx pgx.Tx, o *metadata.Object, row objectRow, cond metadata.Precondition, now time.Time) (*metadata.Object, error) {
	// The object row's foreign key needs the blob row before the object
	// row; moveReference counts the reference afterwards.
	const createBlob = `INSERT INTO blobs (digest, size, created, refcount, location) VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (digest) DO NOTHING`
	if _, err := tx.Exec(ctx, createBlob, string(o.Blob), o.Size, now.UTC().UnixNano(), o.BlobLocation); err != nil {
		return nil, fmt.Errorf("record blob %s: %w", o.Blob, err)
	}
	// Fresh content repairs a quarantined row. The update locks the row
	// only then, so puts of other objects of the blob do not wait here.
	if o.BlobLocation != "" {
		const repair = `UPDATE blobs SET location = $2 WHERE digest = $1 AND location LIKE 'quarantine/%'`
		if _, err := tx.Exec(ctx, repair, string(o.Blob), o.BlobLocation); err != nil {
			return nil, fmt.Errorf("repair blob %s: %w", o.Blob, err)
		}
	}

	for range maxRowRaces {
		current, err := selectObject(ctx, tx, o.Bucket, o.Key, "FOR UPDATE")
		if err != nil {
			return nil, err
		}
		if err := checkPrecondition(o.Bucket, o.Key, current, cond); err != nil {
			return nil, err
		}

		if current == nil {
			inserted, err := insertObject(ctx, tx, o, row, now)
			if err != nil {
				return nil, err
			}
			if !inserted {
				continue // a concurrent transaction inserted the key first
			}
		} else if err := updateObject(ctx, tx, o, row, now); err != nil {
			return nil, err
		}

		if err := moveReference(ctx, tx, current, o); err != nil {
			return nil, err
		}
		return current, nil
	}
	return nil, fmt.Errorf("object %q in %s was created and deleted concurrently %d times", o.Key, o.Bucket, maxRowRaces)
}

// insertObject inserts o's row and reports false, having written nothing,
// when the key is taken.
func insertObject(ctx context.Context, tx pgx.Tx, o *metadata.Object, row objectRow, now time.Time) (bool, error) {
	const insert = `INSERT INTO objects (` + objectColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (bucket, key) DO NOTHING`
	result, err := tx.Exec(ctx, insert, o.Bucket, o.Key, string(o.Blob), o.Size, o.ETag, o.ContentType,
		row.headers, row.userMetadata, row.checksums, o.ChecksumType, row.parts, unixNano(o.Modified, now))
	if err != nil {
		return false, fmt.Errorf("insert object row: %w", err)
	}
	return result.RowsAffected() == 1, nil
}

// updateObject overwrites the locked row of o's key with o.
func updateObject(ctx context.Context, tx pgx.Tx, o *metadata.Object, row objectRow, now time.Time) error {
	const update = `UPDATE objects SET
			blob = $3, size = $4, etag = $5, content_type = $6, headers = $7, user_metadata = $8,
			checksums = $9, checksum_type = $10, parts = $11, modified = $12
		WHERE bucket = $1 AND key = $2`
	_, err := tx.Exec(ctx, update, o.Bucket, o.Key, string(o.Blob), o.Size, o.ETag, o.ContentType,
		row.headers, row.userMetadata, row.checksums, o.ChecksumType, row.parts, unixNano(o.Modified, now))
	if err != nil {
		return fmt.Errorf("update object row: %w", err)
	}
	return nil
}

// moveReference gives o.Blob, whose row exists, one reference and takes one
// from the replaced object's blob, if any. When both are the same blob the
// count stays as it is. The two blob rows are changed in digest order.
func moveReference(ctx context.Context, tx pgx.Tx, replaced, o *metadata.Object) error {
	if replaced != nil && replaced.Blob == o.Blob {
		return nil
	}
	if replaced != nil && replaced.Blob < o.Blob {
		if err := releaseBlob(ctx, tx, replaced.Blob); err != nil {
			return err
		}
		replaced = nil
	}
	if err := addReferences(ctx, tx, []digest.Digest{o.Blob}, 1); err != nil {
		return err
	}
	if replaced != nil {
		return releaseBlob(ctx, tx, replaced.Blob)
	}
	return nil
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
func releaseBlob(ctx context.Context, tx pgx.Tx, d digest.Digest) error {
	const release = `UPDATE blobs SET refcount = GREATEST(refcount - 1, 0) WHERE digest = $1`
	if _, err := tx.Exec(ctx, release, string(d)); err != nil {
		return fmt.Errorf("release reference to blob %s: %w", d, err)
	}
	return nil
}

// selectObject returns the object stored under bucket and key, or nil when
// there is none, locking its row with the given locking clause.
func selectObject(ctx context.Context, tx pgx.Tx, bucket, key, locking string) (*metadata.Object, error) {
	o, err := scanObject(tx.QueryRow(ctx, getObjectQuery+" "+locking, bucket, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read object %q in %s: %w", key, bucket, err)
	}
	return o, nil
}

// GetObject returns the object, or an error wrapping metadata.ErrNotFound.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*metadata.Object, error) {
	notFound := fmt.Errorf("object %q in %s: %w", key, bucket, metadata.ErrNotFound)
	if !storable(key) {
		return nil, notFound
	}
	var location *string
	o, err := scanObject(s.pool.QueryRow(ctx, readObjectQuery, bucket, key), &location)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
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
	notFound := fmt.Errorf("object %q in %s: %w", key, bucket, metadata.ErrNotFound)
	if !storable(key) {
		return nil, notFound
	}
	var deleted *metadata.Object
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		deleted, err = selectObject(ctx, tx, bucket, key, "FOR UPDATE")
		if err != nil {
			return err
		}
		if deleted == nil {
			return notFound
		}

		if _, err := tx.Exec(ctx, `DELETE FROM objects WHERE bucket = $1 AND key = $2`, bucket, key); err != nil {
			return fmt.Errorf("delete object row: %w", err)
		}
		if err := releaseBlob(ctx, tx, deleted.Blob); err != nil {
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
// prefix and sort after the cursor, in byte order. Prefix and cursor may be
// any bytes, also invalid UTF-8. A limit of zero or less returns every
// remaining object. A bucket that does not exist returns an error wrapping
// metadata.ErrNotFound.
//
// A page is one range scan of the objects primary key from the larger of
// the prefix and the cursor to the prefix's upper bound, which stops after
// LIMIT rows, so its cost does not depend on the size of the bucket.
func (s *Store) ListObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]metadata.Object, error) {
	var objects []metadata.Object
	if kr, ok := listRange(prefix, after); ok {
		query, args := listObjectsQuery(bucket, kr, limit)
		rows, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return nil, fmt.Errorf("list objects of %s: %w", bucket, err)
		}
		objects, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (metadata.Object, error) {
			o, err := scanObject(row)
			if err != nil {
				return metadata.Object{}, err
			}
			return *o, nil
		})
		if err != nil {
			return nil, fmt.Errorf("list objects of %s: %w", bucket, err)
		}
	}

	// Every object row names an existing bucket, so only an empty page
	// needs the check.
	if len(objects) == 0 {
		if err := requireBucket(ctx, s.pool, bucket); err != nil {
			return nil, err
		}
	}
	return objects, nil
}

// listObjectsQuery returns the query of a ListObjects page over kr, and its
// arguments.
func listObjectsQuery(bucket string, kr keyRange, limit int) (string, []any) {
	var args queryArgs
	query := `SELECT ` + objectColumns + ` FROM objects
		WHERE bucket = ` + args.add(bucket) + ` AND key >= ` + args.add(kr.lower)
	if kr.bounded {
		query += ` AND key < ` + args.add(kr.upper)
	}
	query += ` ORDER BY key LIMIT ` + args.add(sqlLimit(limit))
	return query, args
}

// scanObject reads one row of objectColumns, followed by the columns that
// extra receives.
func scanObject(row pgx.Row, extra ...any) (*metadata.Object, error) {
	o := &metadata.Object{}
	var (
		blob                                string
		headers, userMetadata, checksums, p *string
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
		stored *string
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
