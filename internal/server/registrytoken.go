package server

import (
	"context"
	"fmt"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/registrytoken"
)

// registryService is the service name of the token protocol: the service
// parameter of challenges and token requests and the aud of registry tokens.
const registryService = "coffer"

// newOCIAccess builds the authentication and authorization of the OCI API
// over the shared identity services, adding the registry token service.
//
// The signing keys of registry tokens are derived from the root user's name
// and password, which every replica of one deployment shares (see
// docs/cluster.md), so each replica verifies the tokens of the others.
// Changing the root password therefore invalidates the registry tokens in
// flight, which live five minutes.
func newOCIAccess(ctx context.Context, root *authn.Root, ids *identityServices) (oci.Access, error) {
	password, err := root.Lookup(ctx, root.User())
	if err != nil {
		return oci.Access{}, fmt.Errorf("read the root password for the registry token keys: %w", err)
	}
	keys, err := registrytoken.DeriveKeys([]byte(root.User()+"\x00"+password), registrytoken.DefaultRotation)
	if err != nil {
		return oci.Access{}, err
	}
	return oci.Access{
		Credentials: ids.resolver,
		Policies:    ids.authorizer,
		Tokens:      registrytoken.NewService(keys, registryService),
	}, nil
}
