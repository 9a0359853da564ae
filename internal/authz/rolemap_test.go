package authz

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestMapRoles(t *testing.T) {
	mapping := RoleMapping{
		RealmRoles:  map[string][]string{"dev": {"developer"}, "admin": {"admin", "developer"}},
		Client:      "coffer.api",
		ClientRoles: map[string][]string{"push": {"pusher"}},
		Groups:      map[string][]string{"/eng/**": {"engineer"}, "/eng/team-a": {"team-a"}},
	}
	tests := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{"nil claims", nil, nil},
		{"realm roles sorted and unique", realmClaims("dev", "admin", "unmapped"), []string{"admin", "developer"}},
		{"client with dot in id", clientClaims("coffer.api", "push"), []string{"pusher"}},
		{"other client", clientClaims("coffer", "push"), nil},
		{"groups glob and exact", groupClaims("/eng/team-a"), []string{"engineer", "team-a"}},
		{"group prefix only", groupClaims("/engineering"), nil},
		{"string slices", map[string]any{"groups": []string{"/eng/x"}}, []string{"engineer"}},
		{"roles not a list", map[string]any{"realm_access": map[string]any{"roles": "dev"}}, nil},
		{"non-string items", map[string]any{"realm_access": map[string]any{"roles": []any{1.0, "dev", nil}}}, []string{"developer"}},
		{"realm_access not object", map[string]any{"realm_access": []any{"dev"}}, nil},
		{"everything", mergeClaims(realmClaims("dev"), clientClaims("coffer.api", "push"), groupClaims("/eng/a")),
			[]string{"developer", "engineer", "pusher"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MapRoles(tt.claims, mapping); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MapRoles = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestMapRolesWithoutClient(t *testing.T) {
	mapping := RoleMapping{ClientRoles: map[string][]string{"push": {"pusher"}}}
	claims := map[string]any{"resource_access": map[string]any{"": map[string]any{"roles": []any{"push"}}}}
	if got := MapRoles(claims, mapping); got != nil {
		t.Errorf("MapRoles without a client = %v, want nil", got)
	}
}

func TestRoleMappingValidate(t *testing.T) {
	tests := []struct {
		name      string
		mapping   RoleMapping
		wantField string
		wantText  string
	}{
		{"client roles without client", RoleMapping{ClientRoles: map[string][]string{"a": {"b"}}}, "client", "client is empty"},
		{"relative group", RoleMapping{Groups: map[string][]string{"eng": {"b"}}}, `groups["eng"]`, "starts with /"},
		{"empty realm target", RoleMapping{RealmRoles: map[string][]string{"a": {"x", ""}}}, `realm_roles["a"]`, "role is empty"},
		{"empty client target", RoleMapping{Client: "c", ClientRoles: map[string][]string{"a": {""}}}, `client_roles["a"]`, "role is empty"},
		{"empty group target", RoleMapping{Groups: map[string][]string{"/g": {""}}}, `groups["/g"]`, "role is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.mapping.Validate()
			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("Validate = %v, want a *FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q", fieldErr.Field, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
		})
	}
	if err := (RoleMapping{}).Validate(); err != nil {
		t.Errorf("empty mapping: %v", err)
	}
}
