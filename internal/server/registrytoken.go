package server

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/registrytoken"
)

// registryService is the service name of the token protocol: the service
// parameter of challenges and token requests and the aud of registry tokens.
const registryService = "coffer"

// newOCIAccess builds the authentication and authorization of the OCI API.
// The identity resolver checks the root user and, when auth.oidc is set,
// OIDC access tokens. The authorizer decides with auth.policies.
//
// The signing keys of registry tokens are derived from the root user's name
// and password, which every replica of one deployment shares (see
// docs/cluster.md), so each replica verifies the tokens of the others.
// Changing the root password therefore invalidates the registry tokens in
// flight, which live five minutes.
func newOCIAccess(ctx context.Context, cfg config.Config, root *authn.Root, verifier *oidc.Verifier) (oci.Access, error) {
	resolver := &identity.Resolver{Root: root, Roles: cfg.Auth.Roles}
	if verifier != nil {
		resolver.OIDC = verifier
	}
	authorizer := identity.NewAuthorizer(identity.StaticPolicy(cfg.Auth.Policies))

	password, err := root.Lookup(ctx, root.User())
	if err != nil {
		return oci.Access{}, fmt.Errorf("read the root password for the registry token keys: %w", err)
	}
	keys, err := registrytoken.DeriveKeys([]byte(root.User()+"\x00"+password), registrytoken.DefaultRotation)
	if err != nil {
		return oci.Access{}, err
	}
	return oci.Access{
		Credentials: resolver,
		Policies:    authorizer,
		Tokens:      registrytoken.NewService(keys, registryService),
	}, nil
}
