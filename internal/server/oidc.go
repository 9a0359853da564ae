package server

import (
	"context"

	"github.com/cofferhq/coffer/internal/authn/oidc"
)

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
