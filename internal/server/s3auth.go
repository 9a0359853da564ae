package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// s3Identity builds what the S3 face and the access-key API need to know
// who a request is: the root user, access keys sealed with the server key,
// stateless session credentials and the OIDC token resolver. The shared
// Resolver and Authorizer of internal/server/identity.go are meant to
// replace resolver and authorizer here once both exist.
type s3Identity struct {
	root   *authn.Root
	sealer *authn.Sealer
	// bearer is the OIDC verifier, nil when auth.oidc is off.
	bearer middleware.BearerAuthenticator
}

// resolver returns the identity resolver over root and OIDC tokens.
func (s *s3Identity) resolver() *identity.Resolver {
	r := &identity.Resolver{Root: s.root}
	if b, ok := s.bearer.(oidcBearer); ok {
		r.OIDC = b.verifier
	}
	return r
}

// accessKeys returns the access keys kept in store.
func (s *s3Identity) accessKeys(store metadata.AccessKeys) *identity.AccessKeys {
	return identity.NewAccessKeys(store, s.sealer)
}

// authorizer returns the authorizer of S3 requests: the root statement and
// the bucket policies.
func (s *s3Identity) authorizer(store *objects.Store) *identity.Authorizer {
	return identity.NewAuthorizer(objects.BucketPolicies{Store: store})
}

// s3Credentials resolves the access keys of signed S3 requests: temporary
// credentials when a session token came along, else the root user, else a
// stored access key.
type s3Credentials struct {
	root     *authn.Root
	keys     *identity.AccessKeys
	sessions *identity.Sessions
}

// ResolveCredential implements s3.CredentialResolver.
func (c s3Credentials) ResolveCredential(ctx context.Context, accessKey, sessionToken string) (string, identity.Identity, error) {
	if sessionToken != "" {
		return c.sessions.Resolve(accessKey, sessionToken)
	}
	if !identity.IsSessionKey(accessKey) {
		secret, err := c.root.Lookup(ctx, accessKey)
		if err == nil {
			return secret, identity.Root("sigv4"), nil
		}
		if !errors.Is(err, authn.ErrUnknownAccessKey) {
			return "", identity.Identity{}, err
		}
	}
	secret, id, err := c.keys.Resolve(ctx, accessKey)
	if errors.Is(err, authn.ErrUnknownAccessKey) {
		return "", identity.Identity{}, fmt.Errorf("%w: %w", sigv4.ErrUnknownAccessKey, err)
	}
	return secret, id, err
}

// managementCaller returns the identity of a management request that the
// authentication middleware has admitted: the root user with HTTP Basic,
// or the principal of an OIDC bearer token.
func (s *s3Identity) managementCaller(resolver *identity.Resolver) func(r *http.Request) (identity.Identity, error) {
	return func(r *http.Request) (identity.Identity, error) {
		if user, password, ok := r.BasicAuth(); ok {
			return resolver.Basic(r.Context(), user, password)
		}
		scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if found && strings.EqualFold(scheme, "Bearer") {
			return resolver.Bearer(r.Context(), strings.TrimSpace(token))
		}
		return identity.Identity{}, fmt.Errorf("management request without credentials: %w", authn.ErrInvalidCredentials)
	}
}
