package traced

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateBucket calls the wrapped store's CreateBucket inside a span.
func (s *Store) CreateBucket(ctx context.Context, b metadata.Bucket) error {
	ctx, c := s.start(ctx, "metadata.CreateBucket")
	err := s.next.CreateBucket(ctx, b)
	c.end(err)
	return err
}

// GetBucket calls the wrapped store's GetBucket inside a span.
func (s *Store) GetBucket(ctx context.Context, name string) (metadata.Bucket, error) {
	ctx, c := s.start(ctx, "metadata.GetBucket")
	result, err := s.next.GetBucket(ctx, name)
	c.end(err)
	return result, err
}

// ListBuckets calls the wrapped store's ListBuckets inside a span.
func (s *Store) ListBuckets(ctx context.Context) ([]metadata.Bucket, error) {
	ctx, c := s.start(ctx, "metadata.ListBuckets")
	result, err := s.next.ListBuckets(ctx)
	c.end(err)
	return result, err
}

// DeleteBucket calls the wrapped store's DeleteBucket inside a span.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	ctx, c := s.start(ctx, "metadata.DeleteBucket")
	err := s.next.DeleteBucket(ctx, name)
	c.end(err)
	return err
}

// PutObject calls the wrapped store's PutObject inside a span.
func (s *Store) PutObject(ctx context.Context, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, error) {
	ctx, c := s.start(ctx, "metadata.PutObject")
	result, err := s.next.PutObject(ctx, o, cond)
	c.end(err)
	return result, err
}

// GetObject calls the wrapped store's GetObject inside a span.
func (s *Store) GetObject(ctx context.Context, bucket, key string) (*metadata.Object, error) {
	ctx, c := s.start(ctx, "metadata.GetObject")
	result, err := s.next.GetObject(ctx, bucket, key)
	c.end(err)
	return result, err
}

// DeleteObject calls the wrapped store's DeleteObject inside a span.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) (*metadata.Object, error) {
	ctx, c := s.start(ctx, "metadata.DeleteObject")
	result, err := s.next.DeleteObject(ctx, bucket, key)
	c.end(err)
	return result, err
}

// ListObjects calls the wrapped store's ListObjects inside a span.
func (s *Store) ListObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]metadata.Object, error) {
	ctx, c := s.start(ctx, "metadata.ListObjects")
	result, err := s.next.ListObjects(ctx, bucket, prefix, after, limit)
	c.end(err)
	return result, err
}

// CreateMultipartUpload calls the wrapped store's CreateMultipartUpload inside a span.
func (s *Store) CreateMultipartUpload(ctx context.Context, u metadata.MultipartUpload) error {
	ctx, c := s.start(ctx, "metadata.CreateMultipartUpload")
	err := s.next.CreateMultipartUpload(ctx, u)
	c.end(err)
	return err
}

// GetMultipartUpload calls the wrapped store's GetMultipartUpload inside a span.
func (s *Store) GetMultipartUpload(ctx context.Context, id string) (metadata.MultipartUpload, error) {
	ctx, c := s.start(ctx, "metadata.GetMultipartUpload")
	result, err := s.next.GetMultipartUpload(ctx, id)
	c.end(err)
	return result, err
}

// PutPart calls the wrapped store's PutPart inside a span.
func (s *Store) PutPart(ctx context.Context, p metadata.Part) (*metadata.Part, error) {
	ctx, c := s.start(ctx, "metadata.PutPart")
	result, err := s.next.PutPart(ctx, p)
	c.end(err)
	return result, err
}

// ListParts calls the wrapped store's ListParts inside a span.
func (s *Store) ListParts(ctx context.Context, uploadID string, after, limit int) ([]metadata.Part, error) {
	ctx, c := s.start(ctx, "metadata.ListParts")
	result, err := s.next.ListParts(ctx, uploadID, after, limit)
	c.end(err)
	return result, err
}

// ListMultipartUploads calls the wrapped store's ListMultipartUploads inside a span.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) ([]metadata.MultipartUpload, error) {
	ctx, c := s.start(ctx, "metadata.ListMultipartUploads")
	result, err := s.next.ListMultipartUploads(ctx, bucket, prefix, keyAfter, idAfter, limit)
	c.end(err)
	return result, err
}

// ListMultipartUploadsBefore calls the wrapped store's ListMultipartUploadsBefore inside a span.
func (s *Store) ListMultipartUploadsBefore(ctx context.Context, t time.Time, limit int) ([]metadata.MultipartUpload, error) {
	ctx, c := s.start(ctx, "metadata.ListMultipartUploadsBefore")
	result, err := s.next.ListMultipartUploadsBefore(ctx, t, limit)
	c.end(err)
	return result, err
}

// CompleteMultipartUpload calls the wrapped store's CompleteMultipartUpload inside a span.
func (s *Store) CompleteMultipartUpload(ctx context.Context, id string, o *metadata.Object, cond metadata.Precondition) (*metadata.Object, []metadata.Part, error) {
	ctx, c := s.start(ctx, "metadata.CompleteMultipartUpload")
	v0, v1, err := s.next.CompleteMultipartUpload(ctx, id, o, cond)
	c.end(err)
	return v0, v1, err
}

// AbortMultipartUpload calls the wrapped store's AbortMultipartUpload inside a span.
func (s *Store) AbortMultipartUpload(ctx context.Context, id string) ([]metadata.Part, error) {
	ctx, c := s.start(ctx, "metadata.AbortMultipartUpload")
	result, err := s.next.AbortMultipartUpload(ctx, id)
	c.end(err)
	return result, err
}
