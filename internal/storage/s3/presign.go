package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cofferhq/coffer/internal/storage"
)

// maxPresignExpiry is the longest validity that SigV4 query signing allows
// (seven days).
const maxPresignExpiry = 7 * 24 * time.Hour

// PresignGet returns a URL that reads the whole object of key from the
// store, without credentials, until expiry has passed. The URL carries the
// response-* parameters for every field of headers that is set, so the
// store sends those headers instead of the ones it stored. Signing happens
// locally: the URL is returned without a request, so it does not check
// that the key exists.
func (d *Driver) PresignGet(ctx context.Context, key string, expiry time.Duration, headers storage.ResponseHeaders) (string, error) {
	if err := checkRequest(ctx, key); err != nil {
		return "", err
	}
	if expiry <= 0 || expiry > maxPresignExpiry {
		return "", fmt.Errorf("presign %q: expiry %s must be positive and at most %s", key, expiry, maxPresignExpiry)
	}

	in := &awss3.GetObjectInput{
		Bucket:                     aws.String(d.bucket),
		Key:                        aws.String(d.objectKey(key)),
		ResponseContentType:        optional(headers.ContentType),
		ResponseContentDisposition: optional(headers.ContentDisposition),
		ResponseCacheControl:       optional(headers.CacheControl),
		ResponseContentEncoding:    optional(headers.ContentEncoding),
		ResponseContentLanguage:    optional(headers.ContentLanguage),
	}

	req, err := awss3.NewPresignClient(d.client).PresignGetObject(ctx, in, awss3.WithPresignExpires(expiry))
	if err != nil {
		return "", fmt.Errorf("presign %q: %w", key, err)
	}
	return req.URL, nil
}

// optional returns nil for an empty string, so the SDK leaves the
// parameter out.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
