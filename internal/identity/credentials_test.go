package identity

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
)

// testSealer returns a Sealer over a fixed key.
func testSealer(t *testing.T) *authn.Sealer {
	t.Helper()
	s, err := authn.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatalf("NewSealer: %v", err)
	}
	return s
}

func newAccessKeys(t *testing.T, now *time.Time) *AccessKeys {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	keys := NewAccessKeys(store, testSealer(t))
	keys.now = func() time.Time { return *now }
	return keys
}

var readReleases = []authz.Statement{{ID: "read", Effect: authz.Allow, Principals: []string{"*"},
	Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::releases/*"}}}

func TestAccessKeyLifecycle(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	keys := newAccessKeys(t, &now)
	owner := Identity{Principal: authz.Principal{ID: "https://id.example.com#alice", Method: "oidc", Roles: []string{"dev"}, Groups: []string{"/team-a"}}}

	key, secret, err := keys.Create(t.Context(), owner, NewAccessKey{Description: "ci", Expires: now.Add(time.Hour), Restriction: readReleases})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(key.ID) != 20 || key.ID[:2] != "AK" || len(secret) != 40 {
		t.Errorf("Create returned id %q and a secret of %d characters, want a 20-character AK id and 40 characters", key.ID, len(secret))
	}

	gotSecret, id, err := keys.Resolve(t.Context(), key.ID)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if gotSecret != secret || id.Principal.ID != owner.Principal.ID || id.Principal.Method != "access-key" ||
		id.Principal.Roles[0] != "dev" || id.Principal.Groups[0] != "/team-a" || id.CredentialID != key.ID {
		t.Errorf("Resolve = %q, %+v, want the secret and the owner snapshot", gotSecret, id)
	}
	if id.Restriction == nil || len(id.Restriction.Statements) != 1 || id.Restriction.Statements[0].ID != "read" {
		t.Errorf("Resolve restriction = %+v, want the key's statements", id.Restriction)
	}

	now = now.Add(time.Hour)
	if _, _, err := keys.Resolve(t.Context(), key.ID); !errors.Is(err, authn.ErrUnknownAccessKey) {
		t.Errorf("Resolve of an expired key: error = %v, want ErrUnknownAccessKey", err)
	}

	other, _, err := keys.Create(t.Context(), owner, NewAccessKey{})
	if err != nil {
		t.Fatalf("Create without expiry: %v", err)
	}
	if err := keys.Revoke(t.Context(), other.ID); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, _, err := keys.Resolve(t.Context(), other.ID); !errors.Is(err, authn.ErrUnknownAccessKey) {
		t.Errorf("Resolve of a revoked key: error = %v, want ErrUnknownAccessKey", err)
	}
	if _, _, err := keys.Resolve(t.Context(), "AKUNKNOWN"); !errors.Is(err, authn.ErrUnknownAccessKey) {
		t.Errorf("Resolve of an unknown key: error = %v, want ErrUnknownAccessKey", err)
	}
	if err := keys.Revoke(t.Context(), "AKUNKNOWN"); !errors.Is(err, ErrAccessKeyNotFound) {
		t.Errorf("Revoke of an unknown key: error = %v, want ErrAccessKeyNotFound", err)
	}

	listed, err := keys.List(t.Context(), owner.Principal.ID)
	if err != nil || len(listed) != 2 {
		t.Fatalf("List = %d keys, %v, want 2", len(listed), err)
	}
	if _, err := keys.Get(t.Context(), "AKUNKNOWN"); !errors.Is(err, ErrAccessKeyNotFound) {
		t.Errorf("Get of an unknown key: error = %v, want ErrAccessKeyNotFound", err)
	}
}

func TestAccessKeyKeepsOwnerRestriction(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	keys := newAccessKeys(t, &now)
	owner := Identity{Principal: authz.Principal{ID: "coffer#robot$ci"}, Restriction: &authz.Policy{Statements: readReleases}}
	key, _, err := keys.Create(t.Context(), owner, NewAccessKey{Restriction: []authz.Statement{{ID: "all", Effect: authz.Allow,
		Principals: []string{"*"}, Actions: []string{"s3:*"}, Resources: []string{"*"}}}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, id, err := keys.Resolve(t.Context(), key.ID)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	base := authz.Policy{Statements: []authz.Statement{{ID: "owner", Effect: authz.Allow, Principals: []string{"*"}, Actions: []string{"*"}, Resources: []string{"*"}}}}
	put := authz.Request{Principal: id.Principal, Action: authz.ActionS3PutObject, Resource: authz.ObjectResource("releases", "a")}
	if d := authz.Narrow(base, *id.Restriction).Decide(put); d.Allowed() {
		t.Errorf("PutObject by a key of a read-only owner: %+v, want denied", d)
	}
}

func TestCreateAccessKeyRejects(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	keys := newAccessKeys(t, &now)
	if _, _, err := keys.Create(t.Context(), Anonymous(), NewAccessKey{}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Create for the anonymous principal: error = %v, want ErrInvalidRequest", err)
	}
	if _, _, err := keys.Create(t.Context(), Root("basic"), NewAccessKey{Expires: now}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Create with a past expiry: error = %v, want ErrInvalidRequest", err)
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	sessions := NewSessions(testSealer(t))
	sessions.now = func() time.Time { return now }
	alice := Identity{Principal: authz.Principal{ID: "https://id.example.com#alice", Method: "oidc", Roles: []string{"dev"}}, CredentialID: "jti-1"}

	creds, err := sessions.Issue(alice, 15*time.Minute, readReleases)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if len(creds.AccessKeyID) != 20 || creds.AccessKeyID[:4] != "ASIA" || !creds.Expires.Equal(now.Add(15*time.Minute)) {
		t.Errorf("Issue = %+v, want an ASIA key expiring at %s", creds, now.Add(15*time.Minute))
	}
	secret, id, err := sessions.Resolve(creds.AccessKeyID, creds.SessionToken)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if secret != creds.SecretAccessKey || id.Principal.ID != alice.Principal.ID || id.Principal.Method != "sts" ||
		id.CredentialID != creds.AccessKeyID || id.Restriction == nil || id.Restriction.Statements[0].ID != "read" {
		t.Errorf("Resolve = %q, %+v, want the session's secret, principal and policy", secret, id)
	}

	other, err := sessions.Issue(alice, time.Hour, nil)
	if err != nil {
		t.Fatalf("Issue without a policy: %v", err)
	}
	for name, tc := range map[string]struct{ key, token string }{
		"token of another key": {other.AccessKeyID, creds.SessionToken},
		"long-term key":        {"AKEXAMPLE", creds.SessionToken},
		"no prefix":            {creds.AccessKeyID, "abc"},
		"bad base64":           {creds.AccessKeyID, sessionTokenPrefix + "!!"},
		"truncated":            {creds.AccessKeyID, creds.SessionToken[:len(creds.SessionToken)-4]},
	} {
		if _, _, err := sessions.Resolve(tc.key, tc.token); !errors.Is(err, ErrInvalidSessionToken) {
			t.Errorf("Resolve with %s: error = %v, want ErrInvalidSessionToken", name, err)
		}
	}

	now = now.Add(15 * time.Minute)
	if _, _, err := sessions.Resolve(creds.AccessKeyID, creds.SessionToken); !errors.Is(err, ErrExpiredSessionToken) {
		t.Errorf("Resolve after expiry: error = %v, want ErrExpiredSessionToken", err)
	}
	for _, d := range []time.Duration{MinSessionDuration - time.Second, MaxSessionDuration + time.Second} {
		if _, err := sessions.Issue(alice, d, nil); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Issue for %s: error = %v, want ErrInvalidRequest", d, err)
		}
	}
}
