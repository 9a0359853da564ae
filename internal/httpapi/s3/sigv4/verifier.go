// Package sigv4 authenticates S3 API requests: AWS Signature Version 4 in
// the Authorization header (header.go) and in a presigned URL (presign.go),
// and the older Signature Version 2 in both forms (sigv2.go). It also
// verifies the payload while the caller reads it (body.go): a hex SHA-256
// payload hash, or an aws-chunked body with chunk signatures and trailing
// checksums (chunked.go, trailer.go).
//
// The package depends only on the standard library and internal/checksum;
// the S3 adapter maps the returned *Error values to S3 error responses.
package sigv4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Credentials finds the secret of an access key.
type Credentials interface {
	// Lookup returns the secret access key of accessKey, or an error that
	// wraps ErrUnknownAccessKey when there is none.
	Lookup(ctx context.Context, accessKey string) (secret string, err error)
}

// Authentication methods reported in Identity.Method.
const (
	MethodSigV4Header = "sigv4-header"
	MethodSigV4Query  = "sigv4-query"
	MethodSigV2Header = "sigv2-header"
	MethodSigV2Query  = "sigv2-query"
	MethodAnonymous   = "anonymous"
)

// Defaults of the Verifier fields.
const (
	DefaultRegion  = "us-east-1"
	DefaultService = "s3"
	DefaultMaxSkew = 15 * time.Minute
	// MaxPresignExpiry is the longest X-Amz-Expires S3 accepts: 7 days.
	MaxPresignExpiry = 7 * 24 * time.Hour
)

// Verifier authenticates requests. Its zero value is not usable because it
// needs Credentials; the other fields have defaults. A Verifier is safe for
// concurrent use when its Credentials are.
type Verifier struct {
	// Credentials finds the secret of an access key. Required.
	Credentials Credentials
	// Region that SigV4 requests must be signed for; DefaultRegion when empty.
	// Requests signed for another region are rejected.
	Region string
	// Service named in the SigV4 credential scope; DefaultService when empty.
	Service string
	// MaxSkew is how far the request time of a header-signed request may be
	// from Now, in either direction; DefaultMaxSkew when zero.
	MaxSkew time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// Identity is the result of a successful authentication.
type Identity struct {
	// AccessKey that signed the request; empty for anonymous requests.
	AccessKey string
	// Method is one of the Method* constants.
	Method string
	// SecurityToken is the x-amz-security-token header or
	// X-Amz-Security-Token parameter as sent. It is not verified.
	SecurityToken string
}

// Verify authenticates r as a path-style request. See VerifyWithBucket.
func (v *Verifier) Verify(r *http.Request) (Identity, *Body, error) {
	return v.VerifyWithBucket(r, "")
}

// VerifyWithBucket authenticates r. bucket is the bucket that the Host header
// names in a virtual-hosted-style request, or "" for a path-style request.
// Only SigV2 uses it, to build its canonical resource "/bucket/key". r.URL
// must be the request URL as received, before any router rewrites it.
//
// It returns the Identity and a Body that the caller must read instead of
// r.Body. Body verifies the payload while it streams and returns an *Error
// from Read, at the latest instead of io.EOF, when the payload does not
// match, so the caller must not commit anything before Read returns io.EOF.
//
// A request without an Authorization header and without signature query
// parameters is anonymous: it gets Identity{Method: MethodAnonymous}. Its
// body is still decoded according to x-amz-content-sha256 when that header
// is present, because an unsigned aws-chunked body needs decoding whoever
// sent it.
//
// Authentication failures are *Error values. An error from Credentials.Lookup
// other than ErrUnknownAccessKey is returned wrapped, as an internal failure.
func (v *Verifier) VerifyWithBucket(r *http.Request, bucket string) (Identity, *Body, error) {
	authorization := r.Header.Get("Authorization")
	query := r.URL.Query()
	hasV4Query := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	hasV2Query := query.Has("AWSAccessKeyId") || query.Has("Signature")

	var (
		id     Identity
		signer *streamSigner
		err    error
	)
	switch {
	case countTrue(authorization != "", hasV4Query, hasV2Query) > 1:
		return Identity{}, nil, ErrInvalidArgument.withMessage("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	case authorization != "":
		id, signer, err = v.verifyAuthorizationHeader(r, authorization, bucket)
	case hasV4Query:
		id, err = v.verifyPresigned(r, query)
	case hasV2Query:
		id, err = v.verifySigV2Query(r, query, bucket)
	default:
		id = Identity{Method: MethodAnonymous}
	}
	if err != nil {
		return Identity{}, nil, err
	}

	body, err := newBody(r, signer)
	if err != nil {
		return Identity{}, nil, err
	}
	return id, body, nil
}

// verifyAuthorizationHeader dispatches on the scheme of the Authorization header.
func (v *Verifier) verifyAuthorizationHeader(r *http.Request, authorization, bucket string) (Identity, *streamSigner, error) {
	scheme, _, _ := strings.Cut(authorization, " ")
	switch scheme {
	case algorithmHMAC:
		return v.verifyHeader(r, authorization)
	case algorithmECDSA:
		return Identity{}, nil, ErrNotImplemented.withMessage("Signature Version 4A (%s) is not supported; sign with %s", algorithmECDSA, algorithmHMAC)
	case "AWS":
		id, err := v.verifySigV2Header(r, authorization, bucket)
		return id, nil, err
	}
	return Identity{}, nil, ErrInvalidArgument.withMessage("Unsupported Authorization Type %q", scheme)
}

// lookupSecret returns the secret of an access key.
func (v *Verifier) lookupSecret(ctx context.Context, accessKey string) (string, error) {
	if v.Credentials == nil {
		return "", errors.New("sigv4: Verifier has no Credentials")
	}
	secret, err := v.Credentials.Lookup(ctx, accessKey)
	if errors.Is(err, ErrUnknownAccessKey) {
		return "", ErrInvalidAccessKeyID.wrapping(err)
	}
	if err != nil {
		return "", fmt.Errorf("look up secret of access key %q: %w", accessKey, err)
	}
	return secret, nil
}

// checkSkew rejects a header-signed request whose time is more than MaxSkew
// away from now.
func (v *Verifier) checkSkew(requestTime time.Time) error {
	now := v.now()
	skew := now.Sub(requestTime)
	if skew < 0 {
		skew = -skew
	}
	if skew > v.maxSkew() {
		return ErrRequestTimeTooSkewed.withMessage("The difference between the request time (%s) and the server time (%s) is larger than %s.",
			requestTime.UTC().Format(amzDateLayout), now.UTC().Format(amzDateLayout), v.maxSkew())
	}
	return nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) region() string {
	if v.Region == "" {
		return DefaultRegion
	}
	return v.Region
}

func (v *Verifier) service() string {
	if v.Service == "" {
		return DefaultService
	}
	return v.Service
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew <= 0 {
		return DefaultMaxSkew
	}
	return v.MaxSkew
}

// parseHTTPDate parses a Date or x-amz-date header in any format that S3
// clients send: the SigV4 basic format, RFC 1123 with "GMT" or a numeric
// zone, RFC 850 and ANSI C.
func parseHTTPDate(value string) (time.Time, bool) {
	if t, err := time.Parse(amzDateLayout, value); err == nil {
		return t, true
	}
	if t, err := http.ParseTime(value); err == nil {
		return t, true
	}
	if t, err := time.Parse(time.RFC1123Z, value); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func countTrue(values ...bool) int {
	n := 0
	for _, v := range values {
		if v {
			n++
		}
	}
	return n
}
