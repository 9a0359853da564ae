// Package registry is the OCI domain of Coffer: repositories, blobs,
// upload sessions, manifests, tags and referrers, as the OCI distribution
// specification v1.1 defines them. It knows nothing of HTTP; the oci
// adapter maps its errors onto the specification's error codes.
package registry

import "errors"

// Errors of the registry domain. Each matches one OCI error code.
var (
	ErrNameInvalid         = errors.New("invalid repository name")
	ErrNameUnknown         = errors.New("repository not found")
	ErrTagInvalid          = errors.New("invalid tag")
	ErrDigestInvalid       = errors.New("invalid digest")
	ErrDigestUnsupported   = errors.New("unsupported digest algorithm")
	ErrBlobUnknown         = errors.New("blob not found")
	ErrUploadUnknown       = errors.New("upload session not found")
	ErrUploadInvalid       = errors.New("invalid upload")
	ErrRangeInvalid        = errors.New("invalid range")
	ErrSizeInvalid         = errors.New("content length does not match")
	ErrManifestUnknown     = errors.New("manifest not found")
	ErrManifestInvalid     = errors.New("invalid manifest")
	ErrManifestBlobUnknown = errors.New("manifest references unknown content")
	ErrManifestTooLarge    = errors.New("manifest too large")
	ErrNotAcceptable       = errors.New("manifest media type not accepted")
	ErrPaginationInvalid   = errors.New("invalid pagination")
)
