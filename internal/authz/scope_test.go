package authz

import (
	"reflect"
	"testing"
)

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want Scope
	}{
		{"repository:team-a/app:pull,push", Scope{Type: "repository", Name: "team-a/app", Actions: []string{"pull", "push"}}},
		{"repository:app:*", Scope{Type: "repository", Name: "app", Actions: []string{"*"}}},
		{"registry:catalog:*", Scope{Type: "registry", Name: "catalog", Actions: []string{"*"}}},
		{"repository:host:5000/app:pull", Scope{Type: "repository", Name: "host:5000/app", Actions: []string{"pull"}}},
	}
	for _, tt := range tests {
		got, err := ParseScope(tt.in)
		if err != nil {
			t.Errorf("ParseScope(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseScope(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestParseScopeErrors(t *testing.T) {
	for _, in := range []string{"", "repository", "repository:app", "repository::pull", ":app:pull", "repository:app:", "repository:app:pull,,push"} {
		if _, err := ParseScope(in); err == nil {
			t.Errorf("ParseScope(%q) succeeded, want an error", in)
		}
	}
}

func TestParseScopes(t *testing.T) {
	got, err := ParseScopes(" repository:a:pull  registry:catalog:* ")
	if err != nil {
		t.Fatalf("ParseScopes: %v", err)
	}
	want := []Scope{
		{Type: "repository", Name: "a", Actions: []string{"pull"}},
		{Type: "registry", Name: "catalog", Actions: []string{"*"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseScopes = %+v, want %+v", got, want)
	}
	if _, err := ParseScopes("repository:a:pull bad"); err == nil {
		t.Error("ParseScopes accepted a malformed scope")
	}
}

func TestGrantScopes(t *testing.T) {
	policy := Policy{Statements: []Statement{
		{ID: "pull-all", Effect: Allow, Principals: []string{"*"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:**"}},
		{ID: "own", Effect: Allow, Principals: []string{"role:team-a"}, Actions: []string{"oci:*"}, Resources: []string{"repo:team-a/*"}},
		{ID: "catalog", Effect: Allow, Principals: []string{"role:admin"}, Actions: []string{"oci:catalog"}, Resources: []string{ResourceCatalog}},
	}}
	member := Request{Principal: Principal{ID: "iss#a", Roles: []string{"team-a"}}}
	admin := Request{Principal: Principal{ID: "iss#b", Roles: []string{"admin"}}}
	scopes := func(list string) []Scope {
		s, err := ParseScopes(list)
		if err != nil {
			t.Fatalf("ParseScopes(%q): %v", list, err)
		}
		return s
	}

	tests := []struct {
		name      string
		base      Request
		requested string
		want      []Scope
	}{
		{"member own repo", member, "repository:team-a/app:pull,push,delete", scopes("repository:team-a/app:pull,push,delete")},
		{"member star own repo", member, "repository:team-a/app:*", scopes("repository:team-a/app:*")},
		{"member other repo", member, "repository:team-b/app:push,pull", scopes("repository:team-b/app:pull")},
		{"member star other repo", member, "repository:team-b/app:*", nil},
		{"member catalog", member, "registry:catalog:*", nil},
		{"admin catalog", admin, "registry:catalog:*", scopes("registry:catalog:*")},
		{"catalog wrong action", admin, "registry:catalog:pull", nil},
		{"registry other name", admin, "registry:other:*", nil},
		{"unknown type", member, "plugin:team-a/app:pull", nil},
		{"unknown action", member, "repository:team-a/app:tag,pull", scopes("repository:team-a/app:pull")},
		{"merged duplicates", member, "repository:team-a/app:pull repository:x:pull repository:team-a/app:push,pull",
			scopes("repository:team-a/app:pull,push repository:x:pull")},
		{"anonymous", Request{}, "repository:team-a/app:pull", nil},
		{"nothing requested", member, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GrantScopes(policy, tt.base, scopes(tt.requested))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("GrantScopes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGrantScopesHonoursRestriction(t *testing.T) {
	base := Policy{Statements: []Statement{
		{ID: "all", Effect: Allow, Principals: []string{"*"}, Actions: []string{"oci:*"}, Resources: []string{"repo:**"}},
	}}
	pullOnly := Policy{Statements: []Statement{
		{ID: "pat", Effect: Allow, Principals: []string{"*"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:team-a/**"}},
	}}
	req := Request{Principal: Principal{ID: "iss#a"}}
	requested := []Scope{{Type: "repository", Name: "team-a/app", Actions: []string{"pull", "push"}}}
	got := GrantScopes(Narrow(base, pullOnly), req, requested)
	want := []Scope{{Type: "repository", Name: "team-a/app", Actions: []string{"pull"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GrantScopes = %v, want %v", got, want)
	}
}
