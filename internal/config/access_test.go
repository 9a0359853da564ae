package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
)

func TestLoadRolesAndPolicies(t *testing.T) {
	path := writeConfig(t, `
auth:
  roles:
    realm_roles:
      artifact-admin: [admin]
    client: coffer
    client_roles:
      pusher: [ci]
  policies:
    - id: ci-push
      effect: Allow
      principals: ["role:ci"]
      actions: ["oci:pull", "oci:push"]
      resources: ["repo:ci/**"]
`)
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, []string{`COFFER_AUTH_ROLES_GROUPS={"/eng/**":["dev"]}`})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	roles := cfg.Auth.Roles
	if !slices.Equal(roles.RealmRoles["artifact-admin"], []string{"admin"}) || roles.Client != "coffer" || !slices.Equal(roles.ClientRoles["pusher"], []string{"ci"}) {
		t.Errorf("auth.roles from the file = %+v", roles)
	}
	if !slices.Equal(roles.Groups["/eng/**"], []string{"dev"}) {
		t.Errorf("auth.roles.groups from the environment = %v", roles.Groups)
	}
	if len(cfg.Auth.Policies) != 1 {
		t.Fatalf("auth.policies has %d statements, want 1", len(cfg.Auth.Policies))
	}
	s := cfg.Auth.Policies[0]
	if s.ID != "ci-push" || s.Effect != "Allow" || !slices.Equal(s.Actions, []string{"oci:pull", "oci:push"}) || !slices.Equal(s.Resources, []string{"repo:ci/**"}) {
		t.Errorf("auth.policies[0] = %+v", s)
	}
}

func TestLoadPoliciesFromEnvironment(t *testing.T) {
	policies := `[{"id":"public","effect":"Allow","principals":["anonymous"],"actions":["oci:pull"],"resources":["repo:public/**"]}]`
	cfg, _, err := config.Load(config.Flags{}, []string{"COFFER_AUTH_POLICIES=" + policies})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Auth.Policies) != 1 || cfg.Auth.Policies[0].ID != "public" {
		t.Errorf("auth.policies = %+v", cfg.Auth.Policies)
	}
}

func TestLoadRolesAndPoliciesInvalid(t *testing.T) {
	cases := []struct {
		env, want string
	}{
		{`COFFER_AUTH_POLICIES=[{"id":"x","effect":"Allow","principals":["*"],"actions":["oci:tag"],"resources":["*"]}]`, `auth.policies: statements[0].actions[0]: unknown action "oci:tag"`},
		{`COFFER_AUTH_POLICIES=[{"id":"x","effect":"Maybe","principals":["*"],"actions":["oci:pull"],"resources":["*"]}]`, "auth.policies: statements[0].effect"},
		{`COFFER_AUTH_POLICIES={"id":"x"}`, "COFFER_AUTH_POLICIES: invalid JSON array"},
		{`COFFER_AUTH_POLICIES=[{"id":"x","unknown":1}]`, "COFFER_AUTH_POLICIES: invalid JSON array"},
		{`COFFER_AUTH_ROLES_CLIENT_ROLES={"pusher":["ci"]}`, "auth.roles: client"},
		{`COFFER_AUTH_ROLES_GROUPS=[1]`, "COFFER_AUTH_ROLES_GROUPS: invalid JSON object"},
	}
	for _, c := range cases {
		_, _, err := config.Load(config.Flags{}, []string{c.env})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.env, err, c.want)
		}
	}
}
