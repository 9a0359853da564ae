package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
)

// oidcBearer adapts an oidc.Verifier to middleware.BearerAuthenticator.
type oidcBearer struct {
	verifier *oidc.Verifier
}

var _ middleware.BearerAuthenticator = oidcBearer{}

// newOIDCBearer adapts the verifier of auth.oidc, or returns nil when OIDC
// is off.
func newOIDCBearer(verifier *oidc.Verifier) middleware.BearerAuthenticator {
	if verifier == nil {
		return nil
	}
	return oidcBearer{verifier: verifier}
}

// VerifyBearer validates an access token; the principal's subject is the
// issuer and subject joined by "#".
func (b oidcBearer) VerifyBearer(ctx context.Context, token string) (authn.Principal, error) {
	p, err := b.verifier.Verify(ctx, token)
	if errors.Is(err, oidc.ErrKeysUnavailable) {
		return authn.Principal{}, fmt.Errorf("%w: %w", authn.ErrUnavailable, err)
	}
	if err != nil {
		return authn.Principal{}, err
	}
	return authn.Principal{Subject: p.ID(), Method: "oidc"}, nil
}

// FailureReason returns the oidc package's reason label.
func (oidcBearer) FailureReason(err error) string { return oidc.Reason(err) }

// oidcSubsystem makes /readyz report whether the OIDC provider's signing
// keys are available, so that a replica that cannot validate tokens gets
// no traffic. It is added only when auth.oidc is set.
type oidcSubsystem struct {
	verifier *oidc.Verifier
}

func (s *oidcSubsystem) Name() string                    { return "oidc" }
func (s *oidcSubsystem) Validate() error                 { return nil }
func (s *oidcSubsystem) Start(ctx context.Context) error { return nil }
func (s *oidcSubsystem) Stop(ctx context.Context) error  { return nil }

// Health returns nil when the verifier holds signing keys, fetching them
// when it has none.
func (s *oidcSubsystem) Health(ctx context.Context) error {
	return s.verifier.Ready(ctx)
}
