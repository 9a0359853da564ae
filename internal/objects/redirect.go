package objects

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
)

// maxRedirectSize is the largest object that RedirectURL redirects. The s3
// storage driver commits a blob of up to 5 GiB with one CopyObject, and S3
// stores give such an object the MD5 of its content as ETag, which is also
// the object's S3 ETag after a single PUT. A larger blob is copied in parts
// and gets an ETag of the "<md5>-<parts>" form instead.
const maxRedirectSize = 5 << 30

// RedirectURL returns a presigned URL that reads the whole content of o
// straight from the storage backend, or "" when redirects are off or o
// needs response headers that the backend cannot send. The backend sends
// Content-Type, Cache-Control, Content-Disposition, Content-Encoding and
// Content-Language as Coffer stored them, through the URL's response-*
// parameters. It cannot send x-amz-meta-* user metadata, stored checksums,
// the part count of a multipart object or Expires, so objects with any of
// them are served by Coffer. Last-Modified is the backend's: the time the
// content was last committed, which can differ from the object's.
func (s *Store) RedirectURL(ctx context.Context, o *metadata.Object) (string, error) {
	if !redirectable(o) {
		return "", nil
	}
	headers := storage.ResponseHeaders{
		ContentType:        o.ContentType,
		CacheControl:       o.Headers["Cache-Control"],
		ContentDisposition: o.Headers["Content-Disposition"],
		ContentEncoding:    o.Headers["Content-Encoding"],
		ContentLanguage:    o.Headers["Content-Language"],
	}
	if headers.ContentType == "" {
		headers.ContentType = "application/octet-stream"
	}
	url, err := s.blobs.RedirectURL(ctx, o.Blob, headers)
	if err != nil {
		return "", fmt.Errorf("redirect to object %s/%s: %w", o.Bucket, o.Key, err)
	}
	return url, nil
}

// redirectable reports whether every header of o's response can come from
// the backend.
func redirectable(o *metadata.Object) bool {
	return len(o.UserMetadata) == 0 &&
		len(o.Checksums) == 0 &&
		len(o.Parts) == 0 &&
		o.Headers["Expires"] == "" &&
		o.Size <= maxRedirectSize
}
