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

func TestLoadRolesAndPolicies(t *testing.T) {
	path := writeConfig(t, `
auth:
  roles:
    realm_roles:
      artifact-admin: [admin]
    client: coffer
    client_roles:
      team-a-dev: [team-a]
    groups:
      /eng/**: [engineer]
  policies:
    - id: team-a-push
      effect: Allow
      principals: ["role:team-a"]
      actions: ["oci:pull", "oci:push"]
      resources: ["repo:team-a/**"]
`)
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	roles := cfg.Auth.Roles
	if !slices.Equal(roles.RealmRoles["artifact-admin"], []string{"admin"}) || roles.Client != "coffer" {
		t.Errorf("realm roles %v, client %q", roles.RealmRoles, roles.Client)
	}
	if !slices.Equal(roles.ClientRoles["team-a-dev"], []string{"team-a"}) || !slices.Equal(roles.Groups["/eng/**"], []string{"engineer"}) {
		t.Errorf("client roles %v, groups %v", roles.ClientRoles, roles.Groups)
	}
	if len(cfg.Auth.Policies) != 1 {
		t.Fatalf("policies = %+v, want one statement", cfg.Auth.Policies)
	}
	p := cfg.Auth.Policies[0]
	if p.ID != "team-a-push" || p.Effect != "Allow" || !slices.Equal(p.Actions, []string{"oci:pull", "oci:push"}) || !slices.Equal(p.Resources, []string{"repo:team-a/**"}) {
		t.Errorf("statement = %+v", p)
	}
}

func TestLoadRolesAndPoliciesFromEnv(t *testing.T) {
	cfg, _, err := config.Load(config.Flags{}, []string{
		`COFFER_AUTH_ROLES_GROUPS={"/ops": ["operator"]}`,
		`COFFER_AUTH_POLICIES=[{"id": "ops", "effect": "Allow", "principals": ["role:operator"], "actions": ["coffer:system.read"], "resources": ["coffer:system"]}]`,
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !slices.Equal(cfg.Auth.Roles.Groups["/ops"], []string{"operator"}) {
		t.Errorf("groups = %v", cfg.Auth.Roles.Groups)
	}
	if len(cfg.Auth.Policies) != 1 || cfg.Auth.Policies[0].ID != "ops" {
		t.Errorf("policies = %+v", cfg.Auth.Policies)
	}
}

func TestLoadRolesAndPoliciesInvalid(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown action", `
auth:
  policies:
    - {id: a, effect: Allow, principals: ["*"], actions: ["oci:tag"], resources: ["*"]}
`, `auth.policies: statements[0].actions[0]: unknown action "oci:tag"`},
		{"duplicate id", `
auth:
  policies:
    - {id: a, effect: Allow, principals: ["*"], actions: ["oci:pull"], resources: ["*"]}
    - {id: a, effect: Deny, principals: ["*"], actions: ["oci:push"], resources: ["*"]}
`, `auth.policies: statements[1].id: duplicate statement id "a"`},
		{"lowercase effect", `
auth:
  policies:
    - {id: a, effect: allow, principals: ["*"], actions: ["oci:pull"], resources: ["*"]}
`, `auth.policies: statements[0].effect: invalid effect "allow"`},
		{"unknown statement key", `
auth:
  policies:
    - {id: a, effect: Allow, principal: ["*"], actions: ["oci:pull"], resources: ["*"]}
`, `field principal not found`},
		{"relative group", `
auth:
  roles:
    groups:
      eng: [engineer]
`, `auth.roles: groups["eng"]`},
		{"client roles without client", `
auth:
  roles:
    client_roles:
      dev: [developer]
`, `auth.roles: client: client_roles is set but client is empty`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := config.Load(config.Flags{ConfigFile: writeConfig(t, c.yaml)}, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}
