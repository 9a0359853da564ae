// Package s3 implements storage.Driver on a bucket of any S3-compatible
// object store, through the AWS SDK for Go v2.
//
// # Layout
//
// The key "blobs/sha256/ab/abcd" is stored as the object
// "<prefix>/blobs/sha256/ab/abcd" of the configured bucket, or as
// "blobs/sha256/ab/abcd" when the prefix is empty. Objects below the prefix
// whose names fall outside the key grammar are not keys: Walk skips them.
//
// S3 has no directories, so nothing stops a bucket from holding both "a" and
// "a/b". The storage contract forbids that, so Writer at offset 0 and Move
// check the destination first: no parent of the key may be an object, and no
// object may be stored below "key/". The check costs one HEAD request per
// parent plus one LIST, sent concurrently, and it is not atomic: two
// concurrent writers can still create a conflict that the check would reject.
//
// # Writes
//
// S3 cannot append to an object, so a writer builds a whole new object and
// replaces the key with it on Commit. Readers of the key see either the old
// object or the new one, never a mix.
//
// A writer at offset 0 fills one part in memory and streams the content as
// a multipart upload, sending each full part in the background while it
// fills the next. The part size grows with the part number (see partSize),
// so the 10,000 parts that S3 allows hold at least 1 TiB while a writer
// holds two buffers of 8 MiB for the first 7.8 GiB of content. Buffers come
// from a pool shared by all writers.
// Content that fits in the first buffer is sent with one PutObject instead.
//
// A writer at a positive offset continues the committed content of the key.
// The first offset bytes of the existing object become the first parts of a
// new multipart upload through UploadPartCopy. The store copies those bytes
// itself, so none of them pass through this process. The written bytes
// follow in the next parts, and anything the old object contained past
// offset is left out. S3 requires every part but the last to hold at least
// 5 MiB, so a writer at an offset below 5 MiB reads those bytes instead and
// sends them at the start of its first part. Both paths pin the old object
// by the ETag that Writer read (If-Match, x-amz-copy-source-if-match), so a
// key replaced before the copy or read fails the write instead of mixing two
// objects. NOTE: moto 5.2.1 ignores x-amz-copy-source-if-match, so there the
// copy is not pinned; versitygw v1.8.0 honours it.
//
// # Uncommitted bytes
//
// The store keeps nothing that a writer did not commit. Close and Cancel
// abort the multipart upload, and the key keeps the object it had before the
// writer opened. A later Writer at the last committed offset continues from
// there. Cancel of a writer opened at offset 0 also deletes the key, because
// such a writer truncated the key as far as the storage contract is
// concerned. Aborts run even when the caller's context is done, bounded by
// cleanupTimeout. An upload that is never aborted, for example after a
// crash, stays in the bucket until a lifecycle rule with
// AbortIncompleteMultipartUpload removes it.
//
// # Moves
//
// Move copies src to dst inside the store (CopyObject, or UploadPartCopy
// parts for objects over 5 GiB) and then deletes src. It is not an atomic
// rename: for a moment both keys exist, and a failure between the two steps
// leaves both. Readers of dst see either the old object or the new one.
//
// # Errors
//
// A missing object maps to storage.ErrNotFound. Throttling responses map to
// ErrThrottled and other 5xx responses to ErrUnavailable, both wrapping the
// SDK's error, so a retrying caller can tell them apart. A done context
// returns its own error. The SDK's standard retryer has already made up to
// three attempts (its default) before any of these errors reaches the caller.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cofferhq/coffer/internal/readahead"
	"github.com/cofferhq/coffer/internal/storage"
)

// defaultRegion is the region used when neither Options nor the SDK's
// configuration names one. S3-compatible stores usually accept any region.
const defaultRegion = "us-east-1"

// cleanupTimeout bounds the requests that abort an upload or delete a
// cancelled key, which run even when the caller's context is done.
const cleanupTimeout = time.Minute

// Options configures a Driver.
type Options struct {
	// Endpoint is the URL of the S3 API, such as "https://s3.example.com:9000".
	// Empty means the AWS endpoint of Region.
	Endpoint string
	// Region is the signing region. Empty means the region of the SDK's
	// configuration (AWS_REGION, the shared config file), or "us-east-1".
	Region string
	// Bucket is the bucket that stores the keys. It must exist.
	Bucket string
	// Prefix is prepended to every key with a slash: "coffer" stores the key
	// "a/b" as the object "coffer/a/b". Leading and trailing slashes are
	// ignored. Empty stores keys at the top of the bucket.
	Prefix string
	// PathStyle addresses the bucket in the URL path ("host/bucket/key")
	// instead of the host name ("bucket.host/key"). Most self-hosted stores
	// need it.
	PathStyle bool
	// AccessKey and SecretKey are static credentials. When both are empty,
	// the SDK's default credential chain applies (environment, shared files,
	// web identity, instance metadata).
	AccessKey string
	SecretKey string
	// CACertFile is a PEM file of certificate authorities to trust for the
	// endpoint, in addition to the system's. Empty trusts the system's
	// authorities, or the bundle named by AWS_CA_BUNDLE.
	CACertFile string
	// WrapTransport, when set, wraps the HTTP transport of every request to
	// the endpoint, such as to add client spans and the traceparent header.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Driver stores keys as objects of one S3 bucket. It is safe for concurrent use.
type Driver struct {
	client *awss3.Client
	bucket string
	// root is the object name prefix of every key: "" or "<prefix>/".
	root string
	// maxCopyPart is the largest range that one UploadPartCopy copies, and
	// the size above which Move copies in parts. S3 allows 5 GiB; tests lower it.
	maxCopyPart int64
}

var _ storage.Driver = (*Driver)(nil)

// New returns a driver for the bucket in opts. It loads the SDK's
// configuration and checks with HeadBucket that the bucket exists and that
// the credentials reach it.
func New(ctx context.Context, opts Options) (*Driver, error) {
	if opts.Bucket == "" {
		return nil, errors.New("s3 storage: bucket is empty; set the bucket name")
	}
	if (opts.AccessKey == "") != (opts.SecretKey == "") {
		return nil, errors.New("s3 storage: set both the access key and the secret key, or neither for the default credential chain")
	}

	cfg, err := loadConfig(ctx, opts)
	if err != nil {
		return nil, err
	}
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
		// Ranged and multipart reads carry no whole-object checksum; the
		// SDK would log a warning for each of them.
		o.DisableLogOutputChecksumValidationSkipped = true
		// The blob store hashes every read against the content's digest,
		// counts a mismatch and the scrub quarantines it. The SDK's own
		// check of whole-object checksums would fail such a read first,
		// with an error that is neither counted nor quarantined.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})

	d := &Driver{
		client:      client,
		bucket:      opts.Bucket,
		maxCopyPart: maxPartSize,
	}
	if prefix := strings.Trim(opts.Prefix, "/"); prefix != "" {
		d.root = prefix + "/"
	}

	if err := d.checkBucket(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// checkBucket sends a HeadBucket request, which fails when the bucket does
// not exist or the credentials may not list it.
func (d *Driver) checkBucket(ctx context.Context) error {
	_, err := d.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(d.bucket)})
	if err == nil {
		return nil
	}
	if ctx.Err() == nil && statusCode(err) == http.StatusNotFound {
		return fmt.Errorf("s3 storage: bucket %q not found; create it first or correct the bucket name", d.bucket)
	}
	return requestError(ctx, fmt.Sprintf("s3 storage: check bucket %q", d.bucket), err)
}

// loadConfig loads the SDK's configuration with the region, credentials and
// certificate authorities of opts.
func loadConfig(ctx context.Context, opts Options) (aws.Config, error) {
	var load []func(*config.LoadOptions) error
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.AccessKey != "" {
		provider := credentials.NewStaticCredentialsProvider(opts.AccessKey, opts.SecretKey, "")
		load = append(load, config.WithCredentialsProvider(provider))
	}
	if opts.CACertFile != "" {
		pem, err := os.ReadFile(opts.CACertFile)
		if err != nil {
			return aws.Config{}, fmt.Errorf("s3 storage: read CA certificate file: %w", err)
		}
		load = append(load, config.WithCustomCABundle(bytes.NewReader(pem)))
	}

	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("s3 storage: load AWS SDK configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	if opts.WrapTransport != nil {
		if err := wrapTransport(&cfg, opts.WrapTransport); err != nil {
			return aws.Config{}, err
		}
	}
	return cfg, nil
}

// wrapTransport replaces the SDK's HTTP client with one whose transport is
// wrap applied to the SDK's own transport, which keeps its dial timeouts,
// connection pool and CA bundle.
func wrapTransport(cfg *aws.Config, wrap func(http.RoundTripper) http.RoundTripper) error {
	buildable, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		return fmt.Errorf("s3 storage: cannot wrap the HTTP client of type %T", cfg.HTTPClient)
	}
	cfg.HTTPClient = &http.Client{Transport: wrap(buildable.GetTransport())}
	return nil
}

// Name returns "s3".
func (d *Driver) Name() string { return "s3" }

// Reader sends a GetObject request for key, with a Range header from offset
// on. An offset at the end of the object returns an empty stream.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := checkRequest(ctx, key); err != nil {
		return nil, err
	}
	op := fmt.Sprintf("read %q", key)
	if offset < 0 {
		return nil, fmt.Errorf("%s: %w: offset %d is negative", op, storage.ErrInvalidOffset, offset)
	}

	in := &awss3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(d.objectKey(key))}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := d.client.GetObject(ctx, in)
	if offset > 0 && hasErrorCode(err, "InvalidRange") {
		// S3 rejects a range that starts at or past the end of the object.
		return d.readerPastEnd(ctx, key, offset)
	}
	if err != nil {
		return nil, requestError(ctx, op, err)
	}

	if offset > 0 && out.ContentRange == nil {
		// The store ignored the Range header and sent the whole object.
		if _, err := io.CopyN(io.Discard, out.Body, offset); err != nil {
			out.Body.Close()
			return nil, fmt.Errorf("%s: skip to offset %d of a store that ignores ranges: %w", op, offset, err)
		}
	}
	if aws.ToInt64(out.ContentLength) >= readahead.MinSize {
		// Receive the next bytes while the caller hashes and sends the last.
		return readahead.New(out.Body, 1<<20), nil
	}
	return out.Body, nil
}

// readerPastEnd returns an empty stream when offset is the size of key, and
// ErrInvalidOffset when it is larger.
func (d *Driver) readerPastEnd(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	info, err := d.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset > info.Size {
		return nil, fmt.Errorf("read %q: %w: offset %d is outside the content of %d bytes",
			key, storage.ErrInvalidOffset, offset, info.Size)
	}
	return http.NoBody, nil
}

// Stat sends a HeadObject request for key.
func (d *Driver) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := checkRequest(ctx, key); err != nil {
		return storage.Info{}, err
	}
	obj, err := d.head(ctx, key)
	if err != nil {
		return storage.Info{}, requestError(ctx, fmt.Sprintf("stat %q", key), err)
	}
	return obj.info, nil
}

// object is the HeadObject metadata of one key.
type object struct {
	info storage.Info
	etag string
}

// head sends a HeadObject request for key and returns the SDK's error as is.
func (d *Driver) head(ctx context.Context, key string) (object, error) {
	out, err := d.client.HeadObject(ctx, &awss3.HeadObjectInput{
		Bucket: aws.String(d.bucket),
		Key:    aws.String(d.objectKey(key)),
	})
	if err != nil {
		return object{}, err
	}
	return object{
		info: storage.Info{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)},
		etag: aws.ToString(out.ETag),
	}, nil
}

// Delete removes the object of key with DeleteObject. When key is not an
// object, Delete removes every object below "key/" with DeleteObjects, 1,000
// keys per request.
func (d *Driver) Delete(ctx context.Context, key string) error {
	if err := checkRequest(ctx, key); err != nil {
		return err
	}
	op := fmt.Sprintf("delete %q", key)

	_, err := d.head(ctx, key)
	if err == nil {
		if err := d.deleteObject(ctx, key); err != nil {
			return requestError(ctx, op, err)
		}
		return nil
	}
	if !isNotFound(err) {
		return requestError(ctx, op, err)
	}

	deleted, err := d.deletePrefix(ctx, key)
	if err != nil {
		return requestError(ctx, op, err)
	}
	if deleted == 0 {
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	return nil
}

// deleteObject sends a DeleteObject request for key, which succeeds whether
// or not the object exists.
func (d *Driver) deleteObject(ctx context.Context, key string) error {
	_, err := d.client.DeleteObject(ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(d.bucket),
		Key:    aws.String(d.objectKey(key)),
	})
	return err
}

// objectKey returns the object name of a valid key.
func (d *Driver) objectKey(key string) string { return d.root + key }

// checkRequest returns the error of a done ctx, or an error wrapping
// storage.ErrInvalidKey for a key outside the key grammar.
func checkRequest(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return storage.ValidateKey(key)
}
