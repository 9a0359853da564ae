package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/identity"
)

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

// callerFromContext returns the identity that the authentication
// middleware stored for a management request.
func callerFromContext(r *http.Request) (identity.Identity, error) {
	id, ok := identity.FromContext(r.Context())
	if !ok {
		return identity.Identity{}, fmt.Errorf("management request without an identity: %w", authn.ErrInvalidCredentials)
	}
	return id, nil
}
