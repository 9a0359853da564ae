package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/authz"
)

// PasswordChecker verifies the root user's name and password.
type PasswordChecker interface {
	Verify(user, password string) (authn.Principal, error)
}

// TokenVerifier validates an OpenID Connect access token.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*oidc.Principal, error)
}

// SecretVerifier checks a secret that Coffer issued, such as a personal
// access token or a robot secret. It returns authn.ErrInvalidCredentials
// when the secret is not one of its own.
type SecretVerifier interface {
	VerifySecret(ctx context.Context, user, secret string) (Identity, error)
}

// Resolver turns the credentials of a request into an Identity. Its nil
// fields are turned off: without OIDC, tokens are rejected, and without a
// SecretVerifier, only the root user can log in with a password.
type Resolver struct {
	Root    PasswordChecker
	OIDC    TokenVerifier
	Roles   authz.RoleMapping
	Secrets SecretVerifier
}

// Basic resolves HTTP Basic credentials. The password may be the root
// password, a secret that Coffer issued, or an OIDC access token (CI jobs
// log in with a client-credentials token as the password). Errors wrap
// authn.ErrInvalidCredentials or authn.ErrUnavailable.
func (r *Resolver) Basic(ctx context.Context, user, password string) (Identity, error) {
	if r.Root != nil {
		if p, err := r.Root.Verify(user, password); err == nil {
			return Root(p.Method), nil
		}
	}
	if r.Secrets != nil {
		id, err := r.Secrets.VerifySecret(ctx, user, password)
		if err == nil || !errors.Is(err, authn.ErrInvalidCredentials) {
			return id, err
		}
	}
	if r.OIDC != nil && looksLikeJWT(password) {
		return r.Bearer(ctx, password)
	}
	return Identity{}, fmt.Errorf("basic credentials of user %q: %w", user, authn.ErrInvalidCredentials)
}

// Bearer resolves an OIDC access token. The principal is the token's issuer
// and subject, with the Coffer roles that the role mapping grants.
func (r *Resolver) Bearer(ctx context.Context, token string) (Identity, error) {
	if r.OIDC == nil {
		return Identity{}, fmt.Errorf("bearer token: OIDC is not configured: %w", authn.ErrInvalidCredentials)
	}
	p, err := r.OIDC.Verify(ctx, token)
	if errors.Is(err, oidc.ErrKeysUnavailable) {
		return Identity{}, fmt.Errorf("%w: %w", authn.ErrUnavailable, err)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", authn.ErrInvalidCredentials, err)
	}
	return Identity{
		Principal: authz.Principal{
			ID:     p.ID(),
			Method: "oidc",
			Roles:  authz.MapRoles(p.Claims, r.Roles),
			Groups: p.Groups,
			Claims: p.Claims,
		},
		CredentialID: p.TokenID,
	}, nil
}

// looksLikeJWT reports whether s has the three dot-separated parts of a
// compact JWT, so that other passwords never reach the token verifier.
func looksLikeJWT(s string) bool {
	return strings.Count(s, ".") == 2 && !strings.ContainsAny(s, " \t")
}
