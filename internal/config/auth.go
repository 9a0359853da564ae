package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
)

// Auth configures authentication beyond the root user.
type Auth struct {
	// OIDC accepts JWT access tokens of an OpenID Connect provider.
	OIDC OIDC `yaml:"oidc"`
	// Roles maps the provider's realm roles, client roles and groups to
	// Coffer roles, which policy statements name as role:<name>.
	Roles authz.RoleMapping `yaml:"roles"`
	// Policies are the access statements of docs/policies.md. The root user
	// may do everything without them; every other principal, the anonymous
	// one included, may do only what they allow.
	Policies []authz.Statement `yaml:"policies"`
}

// validateAccess checks auth.roles and auth.policies.
func (a Auth) validateAccess() []error {
	var errs []error
	if err := a.Roles.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("auth.roles: %w", err))
	}
	if err := authz.Validate(a.Policies); err != nil {
		errs = append(errs, fmt.Errorf("auth.policies: %w", err))
	}
	return errs
}

// OIDC configures validation of access tokens from Keycloak or another
// OpenID Connect provider. It is off while Issuer is empty.
type OIDC struct {
	// Issuer is the exact iss of accepted tokens, such as
	// https://sso.example.com/realms/coffer (Keycloak: base URL, any
	// relative path such as /auth, then /realms/<realm>). Empty (the
	// default) disables OIDC.
	Issuer string `yaml:"issuer"`
	// Audience must be among the token's aud values: the client id of
	// Coffer in the provider. Required with Issuer.
	Audience string `yaml:"audience"`
	// DiscoveryURL is the URL of the discovery document, for when the
	// provider is reached through another address than the issuer's.
	// Default <issuer>/.well-known/openid-configuration.
	DiscoveryURL string `yaml:"discovery_url"`
	// JWKSURL skips discovery and reads the signing keys from this URL.
	JWKSURL string `yaml:"jwks_url"`
	// Algorithms are the accepted signature algorithms. Default RS256.
	Algorithms []string `yaml:"algorithms"`
	// ClockSkew is the tolerance of the exp, nbf and iat checks, at most
	// 5m. Default 60s.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// JWKSRefreshCooldown is the shortest time between two fetches of the
	// provider's keys, also when tokens name unknown key ids. Default 30s.
	JWKSRefreshCooldown time.Duration `yaml:"jwks_refresh_cooldown"`
	// JWKSMaxAge is how long fetched keys are used before they are fetched
	// again. Default 1h.
	JWKSMaxAge time.Duration `yaml:"jwks_max_age"`
	// AllowedAZP, when not empty, lists the client ids (azp) whose tokens
	// are accepted.
	AllowedAZP []string `yaml:"allowed_azp"`
	// AccessTokenRule distinguishes access tokens from ID and refresh tokens:
	// "keycloak" (default; payload typ Bearer), "at+jwt" (RFC 9068 header
	// typ) or "claim" (AccessTokenClaim equals AccessTokenClaimValue).
	AccessTokenRule       string `yaml:"access_token_rule"`
	AccessTokenClaim      string `yaml:"access_token_claim"`
	AccessTokenClaimValue string `yaml:"access_token_claim_value"`
	// Claims names the claims the principal is built from.
	Claims OIDCClaims `yaml:"claims"`
}

// OIDCClaims names the claims of roles, groups and the username.
type OIDCClaims struct {
	// Username is the display-name claim. Default preferred_username.
	Username string `yaml:"username"`
	// Groups is the group list claim. Default groups.
	Groups string `yaml:"groups"`
	// RolesClient is the client whose roles resource_access.<client>.roles
	// holds. Default: the audience.
	RolesClient string `yaml:"roles_client"`
}

// Enabled reports whether OIDC tokens are accepted.
func (o OIDC) Enabled() bool { return o.Issuer != "" }

// defaultOIDC returns the auth.oidc defaults: off, RS256 only, a skew of
// one minute and Keycloak's claim layout.
func defaultOIDC() OIDC {
	return OIDC{
		Algorithms:          []string{"RS256"},
		ClockSkew:           time.Minute,
		JWKSRefreshCooldown: 30 * time.Second,
		JWKSMaxAge:          time.Hour,
		AccessTokenRule:     "keycloak",
		Claims:              OIDCClaims{Username: "preferred_username", Groups: "groups"},
	}
}

// asymmetricAlgorithms are the algorithms a provider's public JWKS can
// verify; HMAC algorithms and none never appear in it.
var asymmetricAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// validate checks the auth.oidc keys when OIDC is enabled.
func (o OIDC) validate() []error {
	if !o.Enabled() {
		return nil
	}
	var errs []error
	add := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("auth.oidc.%s: %w", key, err))
		}
	}
	add("issuer", httpURL(o.Issuer))
	if o.Audience == "" {
		add("audience", errors.New("must be set when auth.oidc.issuer is set: use the client id of Coffer in the provider"))
	}
	if o.DiscoveryURL != "" {
		add("discovery_url", httpURL(o.DiscoveryURL))
	}
	if o.JWKSURL != "" {
		add("jwks_url", httpURL(o.JWKSURL))
	}
	if len(o.Algorithms) == 0 {
		add("algorithms", errors.New("must list at least one algorithm, such as RS256"))
	}
	for _, alg := range o.Algorithms {
		if !slices.Contains(asymmetricAlgorithms, alg) {
			add("algorithms", fmt.Errorf("invalid algorithm %q: expected asymmetric algorithms from %q (HMAC and none cannot be verified with a public key set)", alg, asymmetricAlgorithms))
		}
	}
	if o.ClockSkew < 0 || o.ClockSkew > 5*time.Minute {
		add("clock_skew", fmt.Errorf("must be between 0 and 5m, got %s", o.ClockSkew))
	}
	if o.JWKSRefreshCooldown < time.Second {
		add("jwks_refresh_cooldown", fmt.Errorf("must be at least 1s, got %s", o.JWKSRefreshCooldown))
	}
	if o.JWKSMaxAge < o.JWKSRefreshCooldown {
		add("jwks_max_age", fmt.Errorf("must be at least jwks_refresh_cooldown (%s), got %s", o.JWKSRefreshCooldown, o.JWKSMaxAge))
	}
	add("access_token_rule", oneOf(o.AccessTokenRule, "keycloak", "at+jwt", "claim"))
	if o.AccessTokenRule == "claim" && (o.AccessTokenClaim == "" || o.AccessTokenClaimValue == "") {
		add("access_token_claim", errors.New("access_token_claim and access_token_claim_value must be set when access_token_rule is claim"))
	}
	if o.Claims.Username == "" {
		add("claims.username", errors.New("must not be empty"))
	}
	if o.Claims.Groups == "" {
		add("claims.groups", errors.New("must not be empty"))
	}
	return errs
}

// httpURL checks that s is an absolute http or https URL.
func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid URL %q: expected an absolute http or https URL", s)
	}
	return nil
}
