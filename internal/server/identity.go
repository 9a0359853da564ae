package server

import (
	"context"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// identityServices are the credential resolver and the authorizer that the
// OCI, S3 and management APIs share, built once from the configuration so
// that one set of credentials and one set of rules applies to all three.
type identityServices struct {
	// resolver turns root credentials, issued secrets and OIDC access
	// tokens into identities.
	resolver *identity.Resolver
	// authorizer decides requests against the built-in statements,
	// auth.policies and the policies stored through /api/v1/policies.
	authorizer *identity.Authorizer
	// verifier is nil unless auth.oidc is set; /readyz checks its keys.
	verifier *oidc.Verifier
	// policies caches the stored policies for storedPolicyMaxAge; the
	// management API invalidates it when it changes them.
	policies *identity.StoredPolicies
	// static holds the statements of auth.policies.
	static identity.StaticPolicy
	// sealer encrypts the secrets of access keys and temporary credentials.
	sealer *authn.Sealer
}

// storedPolicyMaxAge is how long stored policies are reused between reads
// of the database, and so how soon a change made through another replica
// applies on this one.
const storedPolicyMaxAge = time.Second

// newIdentityServices builds the shared resolver and authorizer. The
// metadata store opens later, when meta starts, so the issued secrets and
// the stored policies reach it through identityStore.
func newIdentityServices(cfg config.Auth, root *authn.Root, sealer *authn.Sealer, meta *metadataSubsystem) (*identityServices, error) {
	verifier, err := newOIDCVerifier(cfg.OIDC)
	if err != nil {
		return nil, err
	}
	store := identityStore{meta: meta}
	resolver := &identity.Resolver{Root: root, Roles: cfg.Roles, Secrets: &identity.Secrets{Store: store}}
	if verifier != nil {
		// A nil *oidc.Verifier in the interface field would not be nil,
		// so the field is set only when OIDC is on.
		resolver.OIDC = verifier
	}
	ids := &identityServices{
		resolver: resolver,
		verifier: verifier,
		policies: &identity.StoredPolicies{Store: store, MaxAge: storedPolicyMaxAge},
		static:   identity.StaticPolicy(cfg.Policies),
		sealer:   sealer,
	}
	ids.authorizer = identity.NewAuthorizer(ids.sources()...)
	return ids, nil
}

// sources returns the policy sources of every API: auth.policies, the
// self-service statements and the stored policies.
func (s *identityServices) sources() []identity.PolicySource {
	return []identity.PolicySource{s.static, identity.SelfService{}, s.policies}
}

// s3Authorizer returns the authorizer of S3 requests, which also reads the
// policy of the bucket a request addresses.
func (s *identityServices) s3Authorizer(store *objects.Store) *identity.Authorizer {
	return identity.NewAuthorizer(append(s.sources(), objects.BucketPolicies{Store: store})...)
}

// accessKeys returns the S3 access keys kept in store.
func (s *identityServices) accessKeys(store metadata.AccessKeys) *identity.AccessKeys {
	return identity.NewAccessKeys(store, s.sealer)
}

// newOIDCVerifier builds the access token verifier of auth.oidc, or returns
// nil when OIDC is off.
func newOIDCVerifier(cfg config.OIDC) (*oidc.Verifier, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	verifier, err := oidc.New(oidc.Config{
		Issuer:                   cfg.Issuer,
		Audience:                 cfg.Audience,
		DiscoveryURL:             cfg.DiscoveryURL,
		JWKSURL:                  cfg.JWKSURL,
		Algorithms:               cfg.Algorithms,
		ClockSkew:                cfg.ClockSkew,
		JWKSCooldown:             cfg.JWKSRefreshCooldown,
		JWKSMaxAge:               cfg.JWKSMaxAge,
		AllowedAuthorizedParties: cfg.AllowedAZP,
		AccessTokenRule:          cfg.AccessTokenRule,
		AccessTokenClaim:         cfg.AccessTokenClaim,
		AccessTokenClaimValue:    cfg.AccessTokenClaimValue,
		UsernameClaim:            cfg.Claims.Username,
		GroupsClaim:              cfg.Claims.Groups,
		RolesClient:              cfg.Claims.RolesClient,
	})
	if err != nil {
		return nil, fmt.Errorf("auth.oidc: %w", err)
	}
	return verifier, nil
}

// identityStore gives the identity services the metadata store once the
// metadata subsystem has opened it. Requests arrive only after every
// subsystem has started, so the store is set by then.
type identityStore struct {
	meta *metadataSubsystem
}

func (s identityStore) CreateCredential(ctx context.Context, c metadata.Credential) error {
	return s.meta.store.CreateCredential(ctx, c)
}

func (s identityStore) GetCredential(ctx context.Context, id string) (metadata.Credential, error) {
	return s.meta.store.GetCredential(ctx, id)
}

func (s identityStore) TouchCredential(ctx context.Context, id string, at time.Time) error {
	return s.meta.store.TouchCredential(ctx, id, at)
}

func (s identityStore) ListPolicies(ctx context.Context) ([]metadata.StoredPolicy, error) {
	return s.meta.store.ListPolicies(ctx)
}

// policyInvalidatingStore is the metadata store of the management API: a
// successful change of a stored policy drops the authorizer's cached
// policies, so the change applies to the next request on this replica.
type policyInvalidatingStore struct {
	metadata.Store
	policies *identity.StoredPolicies
}

func (s policyInvalidatingStore) PutPolicy(ctx context.Context, p metadata.StoredPolicy) (bool, error) {
	created, err := s.Store.PutPolicy(ctx, p)
	s.policies.Invalidate()
	return created, err
}

func (s policyInvalidatingStore) DeletePolicy(ctx context.Context, id string) error {
	err := s.Store.DeletePolicy(ctx, id)
	s.policies.Invalidate()
	return err
}
