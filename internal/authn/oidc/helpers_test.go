package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/test/keycloak"
)

const testRealm = "coffer"

// testRealmConfig has the resource server client coffer, a CI client
// whose tokens carry coffer in aud, one whose tokens carry only account,
// and a user.
var testRealmConfig = keycloak.RealmConfig{
	Name:   testRealm,
	Roles:  []string{"artifact-reader"},
	Groups: []string{"/eng/platform", "/ops"},
	Clients: []keycloak.ClientConfig{
		{ClientID: "coffer", Secret: "coffer-secret", Roles: []string{"team-a-dev", "team-b-dev"}},
		{
			ClientID: "ci", Secret: "ci-secret", ServiceAccount: true,
			Audiences: []string{"coffer"}, GroupsClaim: "groups",
			ServiceAccountRoles:       []string{"artifact-reader"},
			ServiceAccountClientRoles: map[string][]string{"coffer": {"team-a-dev"}},
			ServiceAccountGroups:      []string{"/eng/platform", "/ops"},
		},
		{ClientID: "plain-ci", Secret: "plain-secret", ServiceAccount: true},
		{ClientID: "at-ci", Secret: "at-secret", ServiceAccount: true, Audiences: []string{"coffer"}, AtJWTType: true},
	},
	Users: []keycloak.UserConfig{{Username: "alice", Password: "alice-password"}},
}

// startMock starts a mock Keycloak with the test realm on loopback; it
// issues tokens on clock.
func startMock(t testing.TB, clock *fakeClock, opts keycloak.Options) *keycloak.Server {
	t.Helper()
	opts.Now = clock.Now
	kc := keycloak.New(opts)
	if err := kc.AddRealm(testRealmConfig); err != nil {
		t.Fatalf("add realm: %v", err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start mock keycloak: %v", err)
	}
	t.Cleanup(func() { _ = kc.Close() })
	return kc
}

// fakeClock is a clock that moves only when a test advances it. The mock
// and the verifier share it, so tokens, JWKS cooldowns and cache ages
// depend on the test's steps and never on how fast the machine is.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newVerifier returns a verifier for the test realm; edit adjusts the
// configuration first.
func newVerifier(t testing.TB, kc *keycloak.Server, clock *fakeClock, edit func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Issuer:       kc.Issuer(testRealm),
		Audience:     "coffer",
		ClockSkew:    time.Minute,
		JWKSCooldown: 30 * time.Second,
		JWKSMaxAge:   2 * time.Minute,
		Now:          clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatalf("new verifier: %v", err)
	}
	return v
}

// clientCredentials requests a token from the mock's token endpoint.
func clientCredentials(t testing.TB, kc *keycloak.Server, clientID, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost,
		kc.URL()+"/realms/"+testRealm+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body keycloak.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: status %d, decode error %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// mint mints a token with the mock's fault options.
func mint(t testing.TB, kc *keycloak.Server, opts keycloak.MintOptions) string {
	t.Helper()
	if opts.Client == "" {
		opts.Client = "ci"
	}
	token, err := kc.Mint(testRealm, opts)
	if err != nil {
		t.Fatalf("mint: %v", err)
	}
	return token
}
