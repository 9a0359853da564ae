package blob

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/storage"
)

// Presigner creates URLs that read a storage key straight from the
// backend for a limited time. The s3 storage driver implements it.
type Presigner interface {
	PresignGet(ctx context.Context, key string, expiry time.Duration, headers storage.ResponseHeaders) (string, error)
}

// EnableRedirects makes RedirectURL return presigned URLs from p that stay
// valid for expiry. Call it before the store serves requests.
//
// A client that follows such a URL reads the bytes from the backend, so
// Coffer does not verify them: the digest check of Open does not run. OCI
// clients verify a blob's digest themselves; other clients get no check.
func (s *Store) EnableRedirects(p Presigner, expiry time.Duration) {
	s.presigner = p
	s.redirectExpiry = expiry
}

// RedirectURL returns a presigned URL that reads the whole content of blob
// d from the backend, with the given response headers, or "" when
// redirects are not enabled.
func (s *Store) RedirectURL(ctx context.Context, d digest.Digest, headers storage.ResponseHeaders) (string, error) {
	if s.presigner == nil {
		return "", nil
	}
	key, err := s.locate(ctx, d, "")
	if err != nil {
		return "", err
	}
	url, err := s.presigner.PresignGet(ctx, key, s.redirectExpiry, headers)
	if err != nil {
		return "", fmt.Errorf("presign blob %s: %w", d, err)
	}
	return url, nil
}
