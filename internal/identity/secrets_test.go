package identity

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
)

// openStore opens an empty SQLite metadata store for the test.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testClock is a settable clock for Secrets.Now.
type testClock struct{ now time.Time }

func (c *testClock) Now() time.Time { return c.now }

// issue stores a credential of kind and returns its ID and secret.
func issue(t *testing.T, store CredentialStore, kind, name, owner string, change func(*metadata.Credential)) (string, string) {
	t.Helper()
	id, secret, hash, err := NewSecret(kind)
	if err != nil {
		t.Fatal(err)
	}
	c := metadata.Credential{ID: id, Kind: kind, Name: name, Owner: owner, OwnerRoles: []string{"dev"}, CreatedBy: owner, SecretHash: hash, Created: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	if change != nil {
		change(&c)
	}
	if err := store.CreateCredential(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return id, secret
}

func TestNewSecretFormat(t *testing.T) {
	id, secret, hash, err := NewSecret(metadata.CredentialToken)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenSecretPrefix+id+"_") || len(secret) != len(TokenSecretPrefix)+24+1+64 {
		t.Errorf("secret %q does not have the form coffer_pat_<id>_<64 hex digits>", secret)
	}
	if len(hash) != 32 {
		t.Errorf("hash has %d bytes, want 32", len(hash))
	}
	_, robot, _, err := NewSecret(metadata.CredentialRobot)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(robot, RobotSecretPrefix) {
		t.Errorf("robot secret %q lacks %s", robot, RobotSecretPrefix)
	}
}

func TestVerifyToken(t *testing.T) {
	store := openStore(t)
	clock := &testClock{now: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	secrets := &Secrets{Store: store, Now: clock.Now}
	id, secret := issue(t, store, metadata.CredentialToken, "laptop", "iss#alice", func(c *metadata.Credential) {
		c.Restriction = []byte(`{"statements":[{"id":"pull","effect":"Allow","principals":["*"],"actions":["oci:pull"],"resources":["repo:**"]}]}`)
	})

	got, err := secrets.VerifySecret(t.Context(), "anything", secret)
	if err != nil {
		t.Fatalf("VerifySecret: %v", err)
	}
	if got.Principal.ID != "iss#alice" || got.Principal.Method != "pat" || got.CredentialID != id {
		t.Errorf("identity = %+v", got)
	}
	if len(got.Principal.Roles) != 1 || got.Principal.Roles[0] != "dev" {
		t.Errorf("roles = %q, want the snapshot [dev]", got.Principal.Roles)
	}
	if got.Restriction == nil || len(got.Restriction.Statements) != 1 || got.Restriction.Statements[0].ID != "pull" {
		t.Errorf("restriction = %+v", got.Restriction)
	}

	rejected := []struct{ name, secret string }{
		{"changed digit", secret[:len(secret)-1] + flip(secret[len(secret)-1])},
		{"unknown id", TokenSecretPrefix + strings.Repeat("0", 24) + secret[len(secret)-65:]},
		{"robot prefix", RobotSecretPrefix + strings.TrimPrefix(secret, TokenSecretPrefix)},
		{"not a coffer secret", "hunter2"},
		{"truncated", secret[:len(secret)-2]},
	}
	for _, r := range rejected {
		if _, err := secrets.VerifySecret(t.Context(), "anything", r.secret); !errors.Is(err, authn.ErrInvalidCredentials) {
			t.Errorf("%s: err = %v, want ErrInvalidCredentials", r.name, err)
		}
	}
}

// flip returns a different hex digit than c.
func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func TestVerifyRevokedAndExpired(t *testing.T) {
	store := openStore(t)
	clock := &testClock{now: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	secrets := &Secrets{Store: store, Now: clock.Now}
	id, secret := issue(t, store, metadata.CredentialToken, "x", "iss#alice", nil)
	if _, err := secrets.VerifySecret(t.Context(), "u", secret); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if err := store.RevokeCredential(t.Context(), id, clock.now); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.VerifySecret(t.Context(), "u", secret); !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Errorf("revoked: err = %v, want ErrInvalidCredentials", err)
	}

	expires := clock.now.Add(time.Hour)
	_, expiring := issue(t, store, metadata.CredentialToken, "y", "iss#alice", func(c *metadata.Credential) { c.Expires = expires })
	if _, err := secrets.VerifySecret(t.Context(), "u", expiring); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	clock.now = expires
	if _, err := secrets.VerifySecret(t.Context(), "u", expiring); !errors.Is(err, authn.ErrInvalidCredentials) {
		t.Errorf("at expiry: err = %v, want ErrInvalidCredentials", err)
	}
}

func TestVerifyRobot(t *testing.T) {
	store := openStore(t)
	secrets := &Secrets{Store: store}
	id, secret := issue(t, store, metadata.CredentialRobot, "ci", "coffer#robot$ci", nil)
	got, err := secrets.VerifySecret(t.Context(), "robot$ci", secret)
	if err != nil {
		t.Fatalf("VerifySecret: %v", err)
	}
	if got.Principal.ID != "coffer#robot$ci" || got.Principal.Method != "robot" || got.CredentialID != id {
		t.Errorf("identity = %+v", got)
	}
	for _, user := range []string{"ci", "robot$cd", ""} {
		if _, err := secrets.VerifySecret(t.Context(), user, secret); !errors.Is(err, authn.ErrInvalidCredentials) {
			t.Errorf("user %q: err = %v, want ErrInvalidCredentials", user, err)
		}
	}
}

func TestVerifyRecordsLastUse(t *testing.T) {
	store := openStore(t)
	start := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	clock := &testClock{now: start}
	secrets := &Secrets{Store: store, Now: clock.Now}
	id, secret := issue(t, store, metadata.CredentialToken, "x", "iss#alice", nil)
	lastUsed := func() time.Time {
		t.Helper()
		c, err := store.GetCredential(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return c.LastUsed
	}
	steps := []struct {
		after time.Duration
		want  time.Time
	}{
		{0, start},
		{30 * time.Second, start},
		{59 * time.Second, start},
		{61 * time.Second, start.Add(61 * time.Second)},
		{90 * time.Second, start.Add(61 * time.Second)},
	}
	for _, step := range steps {
		clock.now = start.Add(step.after)
		if _, err := secrets.VerifySecret(t.Context(), "u", secret); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(step.want) {
			t.Errorf("after %s: last used = %s, want %s", step.after, got, step.want)
		}
	}
}

func TestVerifyStoreUnavailable(t *testing.T) {
	store := openStore(t)
	_, secret := issue(t, store, metadata.CredentialToken, "x", "iss#alice", nil)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := (&Secrets{Store: store}).VerifySecret(context.WithoutCancel(t.Context()), "u", secret)
	if !errors.Is(err, authn.ErrUnavailable) {
		t.Errorf("closed store: err = %v, want ErrUnavailable", err)
	}
}
