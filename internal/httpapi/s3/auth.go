package s3

import (
	"context"
	"errors"
	"net/http"

	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/identity"
)

// CredentialResolver finds the secret and identity of an access key:
// the root user, a stored access key, or temporary credentials when a
// session token came with the request.
type CredentialResolver interface {
	// ResolveCredential returns the secret and identity of accessKey. It
	// returns an error wrapping sigv4.ErrUnknownAccessKey for an unknown,
	// revoked or expired key, identity.ErrInvalidSessionToken or
	// identity.ErrExpiredSessionToken for a bad session token, and any
	// other error when the lookup itself failed.
	ResolveCredential(ctx context.Context, accessKey, sessionToken string) (string, identity.Identity, error)
}

// SignatureAuthenticator authenticates with AWS Signature V4 and V2. A
// request without a signature is anonymous; only a policy can allow it
// anything.
type SignatureAuthenticator struct {
	// Verifier checks signatures; its Credentials field is ignored.
	Verifier *sigv4.Verifier
	// Credentials resolves access keys.
	Credentials CredentialResolver
}

// Authenticate implements Authenticator.
func (a SignatureAuthenticator) Authenticate(r *http.Request, bucket string) (Auth, error) {
	lookup := &requestCredentials{resolver: a.Credentials, token: securityToken(r)}
	verifier := *a.Verifier
	verifier.Credentials = lookup
	id, body, err := verifier.VerifyWithBucket(r, bucket)
	if err != nil {
		return Auth{}, err
	}
	auth := Auth{
		Identity:      identity.Anonymous(),
		Body:          body,
		DecodedLength: body.DecodedLength(),
		Trailer:       func(name string) string { return body.Trailers().Get(name) },
		// The take functions must be method values of body, which they change.
		TakePayloadSHA256:   body.TakePayloadSHA256,
		TakeTrailerChecksum: body.TakeTrailerChecksum,
	}
	if id.Method != sigv4.MethodAnonymous {
		auth.Identity = lookup.identity
		auth.Method = id.Method
	}
	return auth, nil
}

// securityToken returns the session token of temporary credentials: the
// x-amz-security-token header, or the query parameter of a presigned URL.
func securityToken(r *http.Request) string {
	if token := r.Header.Get("X-Amz-Security-Token"); token != "" {
		return token
	}
	query := r.URL.Query()
	if token := query.Get("X-Amz-Security-Token"); token != "" {
		return token
	}
	return query.Get("x-amz-security-token")
}

// requestCredentials serves the verifier's lookup for one request and
// keeps the identity of the key it found.
type requestCredentials struct {
	resolver CredentialResolver
	token    string
	identity identity.Identity
}

// Lookup implements sigv4.Credentials. Session token failures become the
// S3 errors AWS answers with: 400 ExpiredToken and 400 InvalidToken.
func (c *requestCredentials) Lookup(ctx context.Context, accessKey string) (string, error) {
	secret, id, err := c.resolver.ResolveCredential(ctx, accessKey, c.token)
	switch {
	case errors.Is(err, identity.ErrExpiredSessionToken):
		return "", newError("ExpiredToken", http.StatusBadRequest, "The provided token has expired.")
	case errors.Is(err, identity.ErrInvalidSessionToken):
		return "", newError("InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	case err != nil:
		return "", err
	}
	c.identity = id
	return secret, nil
}
