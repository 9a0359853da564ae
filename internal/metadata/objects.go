package metadata

import (
	"context"
	"errors"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
)

var (
	// ErrAlreadyExists reports a bucket or upload that exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrNotEmpty reports a bucket that still holds objects or uploads.
	ErrNotEmpty = errors.New("not empty")
	// ErrPreconditionFailed reports a conditional write whose condition
	// does not hold.
	ErrPreconditionFailed = errors.New("precondition failed")
)

// Bucket is an S3 bucket.
type Bucket struct {
	Name    string
	Region  string
	Created time.Time
}

// Object is one S3 object: a key in a bucket naming a stored blob.
type Object struct {
	Bucket string
	Key    string
	// Blob is the SHA-256 digest of the object's whole content, which is
	// also its content address in the blob store.
	Blob digest.Digest
	// BlobLocation is the storage key of freshly stored content, as
	// Blob.Location. A put writes it only when it creates the blob's row or
	// repairs a quarantined one, and reads leave it empty.
	BlobLocation string
	Size         int64
	// ETag is the S3 entity tag without quotes: the hex MD5 of the content
	// for a single PUT, or the hex MD5 of the part MD5s followed by "-N".
	ETag        string
	ContentType string
	// Headers holds the stored representation headers by canonical name:
	// Cache-Control, Content-Disposition, Content-Encoding,
	// Content-Language, Expires.
	Headers map[string]string
	// UserMetadata holds x-amz-meta-* values by lowercase name without the prefix.
	UserMetadata map[string]string
	// Checksums holds base64 checksums by algorithm ("CRC32", "CRC32C",
	// "CRC64NVME", "SHA1", "SHA256"); a composite value ends in "-N".
	Checksums map[string]string
	// ChecksumType is "FULL_OBJECT" or "COMPOSITE"; empty without checksums.
	ChecksumType string
	// Parts lists the part sizes of an object completed from a multipart
	// upload, for GET ?partNumber=; nil for a single PUT.
	Parts    []ObjectPart
	Modified time.Time
	// ContentUnavailable is set by GetObject when the blob row of the
	// content is quarantined or missing, so that a read of it would fail.
	ContentUnavailable bool
}

// ContentUnavailable reports whether content whose blob row has location
// cannot be read, which GetObject records in Object.ContentUnavailable.
// A nil location means that the row is missing.
func ContentUnavailable(location *string) bool {
	return location == nil || Blob{Location: *location}.Quarantined()
}

// ObjectPart describes one part of a multipart object.
type ObjectPart struct {
	Number   int
	Size     int64
	Checksum string // base64 checksum of the part with the object's algorithm, if any
}

// Precondition is the condition of a conditional object write.
type Precondition struct {
	// IfNoneMatchAny fails the write when the key exists (If-None-Match: *).
	IfNoneMatchAny bool
	// IfMatch fails the write unless the current ETag equals it (unquoted).
	IfMatch string
}

// MultipartUpload is an open S3 multipart upload.
type MultipartUpload struct {
	ID                string
	Bucket            string
	Key               string
	ContentType       string
	Headers           map[string]string
	UserMetadata      map[string]string
	ChecksumAlgorithm string // from x-amz-checksum-algorithm, or empty
	ChecksumType      string // "COMPOSITE" (default with an algorithm) or "FULL_OBJECT"
	Created           time.Time
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	UploadID   string
	Number     int
	Size       int64
	ETag       string // hex MD5 of the part, unquoted
	Checksum   string // base64, with the upload's algorithm, if any
	StorageKey string // where the part's bytes are stored
	Modified   time.Time
}

// Buckets stores S3 buckets.
type Buckets interface {
	// CreateBucket records b, or returns ErrAlreadyExists.
	CreateBucket(ctx context.Context, b Bucket) error
	// GetBucket returns the bucket, or ErrNotFound.
	GetBucket(ctx context.Context, name string) (Bucket, error)
	// ListBuckets returns every bucket in name order.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// DeleteBucket removes an empty bucket. It returns ErrNotFound, or
	// ErrNotEmpty while objects or multipart uploads remain.
	DeleteBucket(ctx context.Context, name string) error
}

// Objects stores S3 objects. Every write adjusts the reference counts of
// the blobs involved in the same transaction.
type Objects interface {
	// PutObject stores o, replacing the object under the same key, after
	// checking cond against the current object. It returns the replaced
	// object (nil when the key was free), ErrNotFound when the bucket does
	// not exist, or ErrPreconditionFailed. o.Blob gains a reference and the
	// replaced object's blob loses one; a blob row is created if needed.
	PutObject(ctx context.Context, o *Object, cond Precondition) (*Object, error)
	// GetObject returns the object with ContentUnavailable set, or
	// ErrNotFound.
	GetObject(ctx context.Context, bucket, key string) (*Object, error)
	// DeleteObject removes the object and returns it, or returns ErrNotFound.
	DeleteObject(ctx context.Context, bucket, key string) (*Object, error)
	// ListObjects returns up to limit objects of bucket whose keys start with
	// prefix and sort after the cursor, in byte order. The cost of a call
	// does not depend on the number of objects in the bucket.
	ListObjects(ctx context.Context, bucket, prefix, after string, limit int) ([]Object, error)
}

// Multipart stores S3 multipart uploads and their parts.
type Multipart interface {
	// CreateMultipartUpload records u, or returns ErrNotFound when the bucket does not exist.
	CreateMultipartUpload(ctx context.Context, u MultipartUpload) error
	// GetMultipartUpload returns the upload, or ErrNotFound.
	GetMultipartUpload(ctx context.Context, id string) (MultipartUpload, error)
	// PutPart records p, replacing a part with the same number, and returns
	// the replaced part (nil if none). ErrNotFound when the upload is gone.
	PutPart(ctx context.Context, p Part) (*Part, error)
	// ListParts returns up to limit parts with numbers above after, in order.
	ListParts(ctx context.Context, uploadID string, after, limit int) ([]Part, error)
	// ListMultipartUploads returns up to limit uploads of bucket whose keys
	// start with prefix, ordered by key then creation time and ID, after the
	// (keyAfter, idAfter) cursor.
	ListMultipartUploads(ctx context.Context, bucket, prefix, keyAfter, idAfter string, limit int) ([]MultipartUpload, error)
	// ListMultipartUploadsBefore returns up to limit uploads created before t, oldest first.
	ListMultipartUploadsBefore(ctx context.Context, t time.Time, limit int) ([]MultipartUpload, error)
	// CompleteMultipartUpload stores o as PutObject does and removes the
	// upload and all its parts in the same transaction. It returns the
	// replaced object and every part row of the upload, so that the caller
	// can delete the parts' bytes. ErrNotFound when the upload is gone.
	CompleteMultipartUpload(ctx context.Context, id string, o *Object, cond Precondition) (*Object, []Part, error)
	// AbortMultipartUpload removes the upload and its parts and returns the
	// parts, or returns ErrNotFound.
	AbortMultipartUpload(ctx context.Context, id string) ([]Part, error)
}
