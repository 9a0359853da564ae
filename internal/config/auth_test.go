package config_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
)

func TestLoadOIDC(t *testing.T) {
	path := writeConfig(t, `
auth:
  oidc:
    issuer: https://sso.example.com/realms/coffer
    audience: coffer
    algorithms: [RS256, ES256]
    allowed_azp: [ci]
    claims:
      roles_client: artifact-store
`)
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, []string{
		"COFFER_AUTH_OIDC_DISCOVERY_URL=http://keycloak.internal:8080/realms/coffer/.well-known/openid-configuration",
		"COFFER_AUTH_OIDC_CLOCK_SKEW=30s",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	o := cfg.Auth.OIDC
	if !o.Enabled() || o.Issuer != "https://sso.example.com/realms/coffer" || o.Audience != "coffer" {
		t.Errorf("issuer %q, audience %q, enabled %t", o.Issuer, o.Audience, o.Enabled())
	}
	if !slices.Equal(o.Algorithms, []string{"RS256", "ES256"}) || !slices.Equal(o.AllowedAZP, []string{"ci"}) {
		t.Errorf("algorithms %q, allowed_azp %q", o.Algorithms, o.AllowedAZP)
	}
	if o.ClockSkew != 30*time.Second || o.DiscoveryURL != "http://keycloak.internal:8080/realms/coffer/.well-known/openid-configuration" {
		t.Errorf("clock skew %s, discovery URL %q", o.ClockSkew, o.DiscoveryURL)
	}
	if o.Claims.RolesClient != "artifact-store" || o.Claims.Username != "preferred_username" || o.Claims.Groups != "groups" {
		t.Errorf("claims = %+v", o.Claims)
	}
	if o.AccessTokenRule != "keycloak" || o.JWKSRefreshCooldown != 30*time.Second || o.JWKSMaxAge != time.Hour {
		t.Errorf("rule %q, cooldown %s, max age %s", o.AccessTokenRule, o.JWKSRefreshCooldown, o.JWKSMaxAge)
	}
}

func TestLoadOIDCDisabledByDefault(t *testing.T) {
	cfg, _, err := config.Load(config.Flags{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.OIDC.Enabled() {
		t.Error("OIDC enabled without an issuer")
	}
}

func TestLoadOIDCInvalid(t *testing.T) {
	base := []string{"COFFER_AUTH_OIDC_ISSUER=https://sso.example.com/realms/coffer", "COFFER_AUTH_OIDC_AUDIENCE=coffer"}
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"missing audience", []string{"COFFER_AUTH_OIDC_ISSUER=https://sso.example.com/realms/coffer"}, "auth.oidc.audience: must be set"},
		{"relative issuer", []string{"COFFER_AUTH_OIDC_ISSUER=sso/realms/coffer", "COFFER_AUTH_OIDC_AUDIENCE=coffer"}, `auth.oidc.issuer: invalid URL "sso/realms/coffer"`},
		{"HS256", append(slices.Clone(base), "COFFER_AUTH_OIDC_ALGORITHMS=RS256,HS256"), `auth.oidc.algorithms: invalid algorithm "HS256"`},
		{"none", append(slices.Clone(base), "COFFER_AUTH_OIDC_ALGORITHMS=none"), `auth.oidc.algorithms: invalid algorithm "none"`},
		{"skew too large", append(slices.Clone(base), "COFFER_AUTH_OIDC_CLOCK_SKEW=10m"), "auth.oidc.clock_skew: must be between 0 and 5m"},
		{"cooldown too short", append(slices.Clone(base), "COFFER_AUTH_OIDC_JWKS_REFRESH_COOLDOWN=10ms"), "auth.oidc.jwks_refresh_cooldown: must be at least 1s"},
		{"unknown rule", append(slices.Clone(base), "COFFER_AUTH_OIDC_ACCESS_TOKEN_RULE=typ"), "auth.oidc.access_token_rule: invalid value"},
		{"claim rule without claim", append(slices.Clone(base), "COFFER_AUTH_OIDC_ACCESS_TOKEN_RULE=claim"), "auth.oidc.access_token_claim: access_token_claim and access_token_claim_value must be set"},
		{"bad JWKS URL", append(slices.Clone(base), "COFFER_AUTH_OIDC_JWKS_URL=ftp://x/certs"), `auth.oidc.jwks_url: invalid URL "ftp://x/certs"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if msg := loadError(t, config.Flags{}, tc.env); !strings.Contains(msg, tc.want) {
				t.Errorf("error = %q, want it to contain %q", msg, tc.want)
			}
		})
	}
}
