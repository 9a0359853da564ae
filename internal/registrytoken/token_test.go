package registrytoken

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
)

// testKeys skips the scrypt derivation, which takes seconds under the race
// detector; TestDeriveKeysAgree covers it.
func testKeys() *Keys {
	return &Keys{master: []byte("0123456789abcdef0123456789abcdef"), rotation: time.Hour}
}

// serviceAt returns a service whose clock reads *now.
func serviceAt(now *time.Time) *Service {
	s := NewService(testKeys(), "coffer")
	s.now = func() time.Time { return *now }
	return s
}

func TestIssueAndResolve(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := serviceAt(&now)
	id := identity.Identity{
		Principal: authz.Principal{
			ID: "https://sso.example.com/realms/coffer#5f0c", Method: "oidc",
			Roles: []string{"dev"}, Groups: []string{"/eng"}, Claims: map[string]any{"azp": "ci"},
		},
		CredentialID: "jti-1",
	}
	token, err := s.Issue(id, []authz.Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}})
	if err != nil {
		t.Fatal(err)
	}
	if token.ExpiresIn != DefaultLifetime || !token.IssuedAt.Equal(now) {
		t.Errorf("token expires in %v, issued at %v; want %v, %v", token.ExpiresIn, token.IssuedAt, DefaultLifetime, now)
	}

	got, err := s.Resolve(token.Value)
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if got.Principal.ID != id.Principal.ID || got.Principal.Method != Method || got.CredentialID != "jti-1" {
		t.Errorf("identity %+v, want principal %s, method %s, credential jti-1", got, id.Principal.ID, Method)
	}
	if !slices.Equal(got.Principal.Roles, []string{"dev"}) || !slices.Equal(got.Principal.Groups, []string{"/eng"}) || got.Principal.Claims["azp"] != "ci" {
		t.Errorf("principal %+v lost roles, groups or claims", got.Principal)
	}

	everything := authz.Policy{Statements: []authz.Statement{identity.RootStatement}}
	policy := authz.Narrow(everything, *got.Restriction)
	root := authz.Principal{ID: identity.RootPrincipalID}
	for _, c := range []struct {
		action, resource string
		allowed          bool
	}{
		{authz.ActionOCIPull, "repo:team/app", true},
		{authz.ActionOCIPush, "repo:team/app", true},
		{authz.ActionOCIDelete, "repo:team/app", false},
		{authz.ActionOCIPull, "repo:team/app/sub", false},
		{authz.ActionOCICatalog, authz.ResourceCatalog, false},
	} {
		d := policy.Decide(authz.Request{Principal: root, Action: c.action, Resource: c.resource})
		if d.Allowed() != c.allowed {
			t.Errorf("%s on %s: allowed %t, want %t", c.action, c.resource, d.Allowed(), c.allowed)
		}
	}
}

func TestResolveRejects(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := serviceAt(&now)
	token, err := s.Issue(identity.Root("basic"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"at issue", now, true},
		{"within the leeway after expiry", now.Add(DefaultLifetime + DefaultLeeway), true},
		{"expired", now.Add(DefaultLifetime + DefaultLeeway + time.Second), false},
		{"issued in the future beyond the leeway", now.Add(-DefaultLeeway - time.Second), false},
		{"clock behind within the leeway", now.Add(-DefaultLeeway), true},
		{"after two rotations", now.Add(2 * time.Hour), false},
	}
	for _, c := range cases {
		now2 := c.at
		_, err := serviceAt(&now2).Resolve(token.Value)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, authn.ErrInvalidCredentials) {
			t.Errorf("%s: error %v, want one wrapping authn.ErrInvalidCredentials", c.name, err)
		}
	}
}

func TestRotationWindow(t *testing.T) {
	keys := testKeys()
	start := time.Date(2026, 12, 5, 10, 59, 59, 0, time.UTC)
	kid, key := keys.signingKey(start)
	next, nextKey := keys.signingKey(start.Add(time.Second))
	if kid == next || string(key) == string(nextKey) {
		t.Fatalf("the key did not rotate at the hour: %s, %s", kid, next)
	}
	if got, ok := keys.verificationKey(kid, start.Add(time.Hour)); !ok || string(got) != string(key) {
		t.Errorf("the previous period's key is not accepted one period later")
	}
	if _, ok := keys.verificationKey(next, start); !ok {
		t.Errorf("the next period's key is not accepted, so a replica whose clock is ahead fails")
	}
	if _, ok := keys.verificationKey(kid, start.Add(2*time.Hour)); ok {
		t.Errorf("a key two periods old is accepted")
	}
}

func TestDeriveKeysAgree(t *testing.T) {
	a, err := DeriveKeys([]byte("shared"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DeriveKeys([]byte("shared"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, keyA := a.signingKey(now)
	_, keyB := b.signingKey(now)
	if string(keyA) != string(keyB) {
		t.Errorf("two replicas with one secret derive different keys")
	}
	if _, err := DeriveKeys(nil, 0); err == nil {
		t.Errorf("an empty secret derives keys")
	}
}

func TestResolveLeavesForeignTokens(t *testing.T) {
	s := NewService(testKeys(), "coffer")
	for _, token := range []string{"", "abc", "a.b", "e30.e30.", "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleS0xIn0.e30.c2ln"} {
		if _, err := s.Resolve(token); !errors.Is(err, ErrNotRegistryToken) {
			t.Errorf("Resolve(%q) = %v, want ErrNotRegistryToken", token, err)
		}
	}
}

func TestScopeRequests(t *testing.T) {
	cases := []struct {
		scopeType, name, action string
		want                    []ScopeRequest
	}{
		{"repository", "a/b", "pull", []ScopeRequest{{authz.ActionOCIPull, "repo:a/b"}}},
		{"repository", "a/b", "push", []ScopeRequest{{authz.ActionOCIPush, "repo:a/b"}}},
		{"repository", "a/b", "delete", []ScopeRequest{{authz.ActionOCIDelete, "repo:a/b"}}},
		{"repository", "a/b", "*", []ScopeRequest{{authz.ActionOCIPull, "repo:a/b"}, {authz.ActionOCIPush, "repo:a/b"}, {authz.ActionOCIDelete, "repo:a/b"}}},
		{"repository", "a/b", "tag", []ScopeRequest{}},
		{"registry", "catalog", "*", []ScopeRequest{{authz.ActionOCICatalog, authz.ResourceCatalog}}},
		{"registry", "catalog", "pull", nil},
		{"registry", "other", "*", nil},
		{"bucket", "x", "*", nil},
	}
	for _, c := range cases {
		if got := ScopeRequests(c.scopeType, c.name, c.action); !slices.Equal(got, c.want) {
			t.Errorf("ScopeRequests(%s, %s, %s) = %v, want %v", c.scopeType, c.name, c.action, got, c.want)
		}
	}
}
