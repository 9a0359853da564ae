package migrate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// copyBuckets creates every source bucket in the target; a bucket the
// target already has is left as it is.
func (m *Migrator) copyBuckets(ctx context.Context) error {
	buckets, err := m.src.ListBuckets(ctx)
	if err != nil {
		return fmt.Errorf("list source buckets: %w", err)
	}
	for _, b := range buckets {
		err := m.dst.CreateBucket(ctx, b)
		if err != nil && !errors.Is(err, metadata.ErrAlreadyExists) {
			return fmt.Errorf("copy bucket %s: %w", b.Name, err)
		}
		m.done(ItemBucket, &m.report.Buckets)
	}
	return nil
}

// copyObjects copies the objects of every bucket.
func (m *Migrator) copyObjects(ctx context.Context) error {
	buckets, err := m.src.ListBuckets(ctx)
	if err != nil {
		return fmt.Errorf("list source buckets: %w", err)
	}
	for _, b := range buckets {
		if err := m.copyBucketObjects(ctx, b.Name); err != nil {
			return err
		}
	}
	return nil
}

// copyBucketObjects copies the objects of one bucket, page by page.
func (m *Migrator) copyBucketObjects(ctx context.Context, bucket string) error {
	after := ""
	for {
		objects, err := m.src.ListObjects(ctx, bucket, "", after, pageSize)
		if err != nil {
			return fmt.Errorf("list objects of source bucket %s: %w", bucket, err)
		}
		if len(objects) == 0 {
			return nil
		}
		// One listing of the target over the same range returns the
		// objects an earlier run stored already.
		stored, err := m.dst.ListObjects(ctx, bucket, "", after, len(objects))
		if err != nil && !errors.Is(err, metadata.ErrNotFound) {
			return fmt.Errorf("list objects of target bucket %s: %w", bucket, err)
		}
		current := make(map[string]*metadata.Object, len(stored))
		for i := range stored {
			current[stored[i].Key] = &stored[i]
		}
		err = parallel(ctx, m.opts.Workers, objects, func(ctx context.Context, o metadata.Object) error {
			if err := m.copyObject(ctx, &o, current[o.Key]); err != nil {
				return fmt.Errorf("copy object %q in bucket %s: %w", o.Key, bucket, err)
			}
			m.done(ItemObject, &m.report.Objects)
			return nil
		})
		if err != nil {
			return err
		}
		after = objects[len(objects)-1].Key
	}
}

// copyObject copies o's content, then its record, unless current, the
// target's object under the same key or nil, is the same already.
func (m *Migrator) copyObject(ctx context.Context, o, current *metadata.Object) error {
	if err := m.ensureContent(ctx, o.Blob, o.Size); err != nil {
		return err
	}
	if current != nil && sameObject(current, o) {
		return nil
	}
	_, err := m.dst.PutObject(ctx, o, metadata.Precondition{})
	return err
}

// sameObject reports whether two records describe the same object version.
func sameObject(a, b *metadata.Object) bool {
	return a.Blob == b.Blob && a.Size == b.Size && a.ETag == b.ETag && a.ContentType == b.ContentType &&
		a.ChecksumType == b.ChecksumType && a.Modified.Equal(b.Modified) &&
		maps.Equal(a.Headers, b.Headers) && maps.Equal(a.UserMetadata, b.UserMetadata) &&
		maps.Equal(a.Checksums, b.Checksums) && slices.Equal(a.Parts, b.Parts)
}

// countUploads counts the open upload sessions and multipart uploads of
// the source, which a run does not copy.
func (m *Migrator) countUploads(ctx context.Context) error {
	now := time.Now()
	after := ""
	for {
		uploads, err := m.src.ListUploadsBefore(ctx, now, after, pageSize)
		if err != nil {
			return fmt.Errorf("list source upload sessions: %w", err)
		}
		if len(uploads) == 0 {
			break
		}
		atomic.AddInt64(&m.report.UploadSessions, int64(len(uploads)))
		after = uploads[len(uploads)-1].ID
	}

	buckets, err := m.src.ListBuckets(ctx)
	if err != nil {
		return fmt.Errorf("list source buckets: %w", err)
	}
	for _, b := range buckets {
		keyAfter, idAfter := "", ""
		for {
			uploads, err := m.src.ListMultipartUploads(ctx, b.Name, "", keyAfter, idAfter, pageSize)
			if err != nil {
				return fmt.Errorf("list multipart uploads of source bucket %s: %w", b.Name, err)
			}
			if len(uploads) == 0 {
				break
			}
			atomic.AddInt64(&m.report.MultipartUploads, int64(len(uploads)))
			last := uploads[len(uploads)-1]
			keyAfter, idAfter = last.Key, last.ID
		}
	}
	return nil
}
