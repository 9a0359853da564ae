package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cofferhq/coffer/internal/storage"
)

// Move copies src to dst inside the store and then deletes src. It is a
// server-side copy, not an atomic rename: until the delete, both keys exist,
// and a failure after the copy leaves both. Readers of dst see either its
// old object or the new one. The copy is pinned to the ETag that Move read
// from src, so a src replaced in between fails the Move instead of copying
// parts of two objects (on stores that honour x-amz-copy-source-if-match).
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	if err := checkRequest(ctx, src); err != nil {
		return err
	}
	if err := storage.ValidateKey(dst); err != nil {
		return err
	}
	op := fmt.Sprintf("move %q to %q", src, dst)

	obj, err := d.head(ctx, src)
	if err != nil {
		return requestError(ctx, op, err)
	}
	if src == dst {
		return nil
	}
	if err := d.checkPlacement(ctx, dst); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}

	if err := d.copyObject(ctx, obj, dst); err != nil {
		return requestError(ctx, op, err)
	}
	if err := d.deleteObject(ctx, src); err != nil {
		return requestError(ctx, op+": delete the source after copying it", err)
	}
	return nil
}

// copyObject copies src to the key dst: with one CopyObject request up to
// maxCopyPart bytes, and as a multipart upload of copied parts above.
func (d *Driver) copyObject(ctx context.Context, src object, dst string) error {
	if src.info.Size <= d.maxCopyPart {
		_, err := d.client.CopyObject(ctx, &awss3.CopyObjectInput{
			Bucket:            aws.String(d.bucket),
			Key:               aws.String(d.objectKey(dst)),
			CopySource:        aws.String(d.copySource(src.info.Key)),
			CopySourceIfMatch: aws.String(src.etag),
		})
		if err != nil {
			return fmt.Errorf("copy object: %w", err)
		}
		return nil
	}

	upload, err := d.createUpload(ctx, dst)
	if err != nil {
		return err
	}
	for _, r := range splitRange(src.info.Size, d.maxCopyPart) {
		if err := upload.copyPart(ctx, src, r); err != nil {
			return abortAfter(ctx, upload, err)
		}
	}
	if err := upload.complete(ctx); err != nil {
		return abortAfter(ctx, upload, err)
	}
	return nil
}

// abortAfter aborts upload after err failed it, and returns err joined with
// any error of the abort.
func abortAfter(ctx context.Context, upload *multipartUpload, err error) error {
	cleanupCtx, cancel := cleanupContext(ctx)
	defer cancel()
	return errors.Join(err, upload.abort(cleanupCtx))
}
