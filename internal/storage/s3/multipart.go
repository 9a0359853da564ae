package s3

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cofferhq/coffer/internal/telemetry"
)

// multipartUpload is one multipart upload in progress and the parts it has.
type multipartUpload struct {
	driver *Driver
	// objectKey is the object name that Complete creates.
	objectKey string
	id        string
	parts     []types.CompletedPart
	// size is the number of bytes in the parts.
	size int64
}

// createUpload starts a multipart upload of the object for key, without a
// checksum algorithm (see withoutPartChecksum).
func (d *Driver) createUpload(ctx context.Context, key string) (*multipartUpload, error) {
	objectKey := d.objectKey(key)
	out, err := d.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket: aws.String(d.bucket),
		Key:    aws.String(objectKey),
	})
	if err != nil {
		return nil, fmt.Errorf("create multipart upload: %w", err)
	}
	return &multipartUpload{driver: d, objectKey: objectKey, id: aws.ToString(out.UploadId)}, nil
}

// nextPartNumber returns the number of the part that comes next.
func (u *multipartUpload) nextPartNumber() int { return len(u.parts) + 1 }

// uploadPart sends data as part number, which must be the next part:
// parts complete in order.
func (u *multipartUpload) uploadPart(ctx context.Context, number int, data []byte) error {
	if number > maxParts {
		return fmt.Errorf("part %d exceeds the limit of %d parts of a multipart upload", number, maxParts)
	}
	out, err := u.driver.client.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket:        aws.String(u.driver.bucket),
		Key:           aws.String(u.objectKey),
		UploadId:      aws.String(u.id),
		PartNumber:    aws.Int32(int32(number)),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}, withoutPartChecksum, unsignedPayload)
	if err != nil {
		return fmt.Errorf("upload part %d: %w", number, err)
	}
	u.parts = append(u.parts, types.CompletedPart{
		PartNumber: aws.Int32(int32(number)),
		ETag:       out.ETag,
	})
	u.size += int64(len(data))
	return nil
}

// copyPart copies the range r of the object src, pinned by its ETag, as the
// next part. The store copies the bytes without sending them to the driver.
func (u *multipartUpload) copyPart(ctx context.Context, src object, r byteRange) error {
	number := u.nextPartNumber()
	out, err := u.driver.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
		Bucket:            aws.String(u.driver.bucket),
		Key:               aws.String(u.objectKey),
		UploadId:          aws.String(u.id),
		PartNumber:        aws.Int32(int32(number)),
		CopySource:        aws.String(u.driver.copySource(src.info.Key)),
		CopySourceIfMatch: aws.String(src.etag),
		CopySourceRange:   aws.String(r.header()),
	})
	if err != nil {
		return fmt.Errorf("copy bytes %d-%d of %q as part %d: %w", r.start, r.end-1, src.info.Key, number, err)
	}
	part := types.CompletedPart{PartNumber: aws.Int32(int32(number))}
	if result := out.CopyPartResult; result != nil {
		part.ETag = result.ETag
	}
	u.parts = append(u.parts, part)
	u.size += r.end - r.start
	return nil
}

// complete assembles the parts into the object, replacing any object of
// the same name.
func (u *multipartUpload) complete(ctx context.Context) error {
	_, err := u.driver.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket:          aws.String(u.driver.bucket),
		Key:             aws.String(u.objectKey),
		UploadId:        aws.String(u.id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts},
	})
	if err != nil {
		return fmt.Errorf("complete multipart upload of %d parts: %w", len(u.parts), err)
	}
	// The part count shows how close an upload came to the store's limit
	// of maxParts; operators check it for very large blobs.
	telemetry.Logger(ctx).Info("s3 multipart upload completed",
		"key", u.objectKey, "parts", len(u.parts), "bytes", u.size)
	return nil
}

// abort discards the upload and its parts.
func (u *multipartUpload) abort(ctx context.Context) error {
	_, err := u.driver.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket:   aws.String(u.driver.bucket),
		Key:      aws.String(u.objectKey),
		UploadId: aws.String(u.id),
	})
	if err != nil {
		return fmt.Errorf("abort multipart upload: %w", err)
	}
	return nil
}

// withoutPartChecksum keeps the SDK from adding a CRC32 checksum to a part.
// An upload created without a checksum algorithm takes parts without
// checksums on every store, while stores differ on parts that carry one.
// Users of Rust S3 clients reported in 2024 that AWS S3 rejected such parts
// with "Checksum Type mismatch". An upload created with CRC32 would need
// the checksum of every copied part in CompleteMultipartUpload, but
// versitygw v1.8.0 returns the checksum of the whole source object from
// UploadPartCopy instead.
func withoutPartChecksum(o *awss3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
}

// unsignedPayload sends a part or object body as UNSIGNED-PAYLOAD, so the
// SDK does not hash every byte for the signature: the request headers are
// still signed. The blob store already hashes the content, and every read
// checks it against the digest or against chunk checksums computed before
// the bytes were sent. Over HTTPS, TLS also protects the body in transit.
var unsignedPayload = awss3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

// copySource returns the x-amz-copy-source value of key: the bucket and
// object name, each path segment escaped.
func (d *Driver) copySource(key string) string {
	segments := strings.Split(d.bucket+"/"+d.objectKey(key), "/")
	for i, segment := range segments {
		segments[i] = url.PathEscape(segment)
	}
	return strings.Join(segments, "/")
}

// cleanupContext returns a context for requests that clean up after a
// writer or a failed copy. It keeps the values of ctx but not its
// cancellation, and ends after cleanupTimeout.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}
