package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Bucket, keys and seeds of workload (b). The two uploads have different
// seeds, so Coffer cannot store the second one as a copy of the first.
const (
	bigBucket       = "bench-big"
	singleKey       = "single"
	multipartKey    = "multipart"
	singleSeed      = 1
	multipartSeed   = 2
	bigReadBufBytes = 1 << 20
)

// runBigObjects is workload (b): one large object put with a single
// PutObject, one put with the multipart uploader, and a GetObject of the
// first whose sha256 is checked. Both uploads stream generated data and
// send UNSIGNED-PAYLOAD.
func runBigObjects(ctx context.Context, b *bench) ([]result, error) {
	size := b.cfg.bigSize
	if err := createBucket(ctx, b.client, bigBucket); err != nil {
		return nil, err
	}
	// Hash the object before timing, so the GET only has to hash what it reads.
	want := seededObject{seed: singleSeed, size: size}.sha256Sum()

	put, err := b.putSingle(ctx, size)
	if err != nil {
		return nil, err
	}
	multipart, err := b.putMultipart(ctx, size)
	if err != nil {
		return nil, err
	}
	get, err := b.getBig(ctx, size, want)
	if err != nil {
		return nil, err
	}
	return []result{put, multipart, get}, nil
}

// putSingle uploads the object singleKey with one PutObject request.
func (b *bench) putSingle(ctx context.Context, size int64) (result, error) {
	slog.Info("putting large object", "bucket", bigBucket, "key", singleKey, "bytes", size)
	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	_, err = b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bigBucket),
		Key:           aws.String(singleKey),
		Body:          newSeededReader(singleSeed, size),
		ContentLength: aws.Int64(size),
	}, unsignedPayload)
	if err != nil {
		return result{}, fmt.Errorf("put %s/%s: %w", bigBucket, singleKey, err)
	}
	return m.end(result{
		Workload: fmt.Sprintf("PutObject %s (one request)", formatSize(size)),
		Kind:     kindTransfer,
		Bytes:    size,
		Requests: 1,
	})
}

// putMultipart uploads the object multipartKey with the SDK's multipart
// uploader. Parts are sections of the generated object, read in place
// because the body implements io.ReaderAt and io.Seeker.
func (b *bench) putMultipart(ctx context.Context, size int64) (result, error) {
	partSize, concurrency := b.cfg.partSize, b.cfg.partConcurrency
	//nolint:staticcheck // most Go applications still use manager, which transfermanager replaces
	uploader := manager.NewUploader(b.client, func(u *manager.Uploader) {
		u.PartSize = partSize
		u.Concurrency = concurrency
		// The uploader adds CRC32 checksums by default, independent of the client's setting.
		u.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		u.ClientOptions = append(u.ClientOptions, unsignedPayload)
	})
	parts := int((size + partSize - 1) / partSize)
	slog.Info("uploading large object in parts", "bucket", bigBucket, "key", multipartKey, "bytes", size, "parts", parts)

	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	_, err = uploader.Upload(ctx, &s3.PutObjectInput{ //nolint:staticcheck // see NewUploader above
		Bucket: aws.String(bigBucket),
		Key:    aws.String(multipartKey),
		Body:   newSeededReader(multipartSeed, size),
	})
	if err != nil {
		return result{}, fmt.Errorf("upload %s/%s in parts: %w", bigBucket, multipartKey, err)
	}
	r, err := m.end(result{
		Workload: fmt.Sprintf("multipart upload %s (%s parts, %d at a time)", formatSize(size), formatSize(partSize), concurrency),
		Kind:     kindTransfer,
		Bytes:    size,
		// CreateMultipartUpload, the parts and CompleteMultipartUpload.
		Requests: parts + 2,
	})
	if err != nil {
		return result{}, err
	}

	head, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bigBucket), Key: aws.String(multipartKey)})
	if err != nil {
		return result{}, fmt.Errorf("check size of %s/%s: %w", bigBucket, multipartKey, err)
	}
	if got := aws.ToInt64(head.ContentLength); got != size {
		return result{}, fmt.Errorf("%s/%s has %d bytes after multipart upload, expected %d", bigBucket, multipartKey, got, size)
	}
	return r, nil
}

// getBig reads the object singleKey and compares its length and sha256 sum
// with what was put.
func (b *bench) getBig(ctx context.Context, size int64, want [sha256.Size]byte) (result, error) {
	slog.Info("getting large object", "bucket", bigBucket, "key", singleKey, "bytes", size)
	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bigBucket), Key: aws.String(singleKey)})
	if err != nil {
		return result{}, fmt.Errorf("get %s/%s: %w", bigBucket, singleKey, err)
	}
	hash := sha256.New()
	n, err := io.CopyBuffer(hash, out.Body, make([]byte, bigReadBufBytes))
	closeErr := out.Body.Close()
	if err != nil {
		return result{}, fmt.Errorf("read %s/%s after %d bytes: %w", bigBucket, singleKey, n, err)
	}
	if closeErr != nil {
		return result{}, fmt.Errorf("close body of %s/%s: %w", bigBucket, singleKey, closeErr)
	}
	r, err := m.end(result{
		Workload: fmt.Sprintf("GetObject %s", formatSize(size)),
		Kind:     kindTransfer,
		Bytes:    n,
		Requests: 1,
	})
	if err != nil {
		return result{}, err
	}

	if n != size {
		return result{}, fmt.Errorf("get %s/%s returned %d bytes, expected %d", bigBucket, singleKey, n, size)
	}
	if got := hash.Sum(nil); [sha256.Size]byte(got) != want {
		return result{}, fmt.Errorf("get %s/%s returned data with sha256 %x, expected %x", bigBucket, singleKey, got, want)
	}
	return r, nil
}
