package oidc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/test/keycloak"
)

func TestVerifyClientCredentialsToken(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	v := newVerifier(t, kc, clock, nil)
	token := clientCredentials(t, kc, "ci", "ci-secret")

	p, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	subject, err := kc.UserID(testRealm, "service-account-ci")
	if err != nil {
		t.Fatal(err)
	}
	issuer := kc.Issuer(testRealm)
	if p.Issuer != issuer || p.Subject != subject || p.ID() != issuer+"#"+subject {
		t.Errorf("principal = %q, %q, %q; want issuer %q, subject %q", p.Issuer, p.Subject, p.ID(), issuer, subject)
	}
	if p.Username != "service-account-ci" {
		t.Errorf("Username = %q, want service-account-ci", p.Username)
	}
	if p.AuthorizedParty != "ci" {
		t.Errorf("AuthorizedParty = %q, want ci", p.AuthorizedParty)
	}
	wantRealm := []string{"default-roles-coffer", "offline_access", "uma_authorization", "artifact-reader"}
	if !slices.Equal(p.RealmRoles, wantRealm) {
		t.Errorf("RealmRoles = %q, want %q", p.RealmRoles, wantRealm)
	}
	if !slices.Equal(p.ClientRoles, []string{"team-a-dev"}) {
		t.Errorf("ClientRoles = %q, want [team-a-dev]", p.ClientRoles)
	}
	if !slices.Equal(p.Groups, []string{"/eng/platform", "/ops"}) {
		t.Errorf("Groups = %q, want [/eng/platform /ops]", p.Groups)
	}
	if !slices.Equal(p.Scopes, []string{"profile", "email"}) {
		t.Errorf("Scopes = %q, want [profile email]", p.Scopes)
	}
	if !strings.HasPrefix(p.TokenID, "onrtac:") || p.Claims["client_id"] != "ci" {
		t.Errorf("TokenID = %q, client_id claim = %v", p.TokenID, p.Claims["client_id"])
	}
	if got := kc.JWKSFetches(testRealm); got != 1 {
		t.Errorf("JWKS fetches = %d, want 1", got)
	}
}

func TestVerifyRejects(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	issuer := kc.Issuer(testRealm)
	now := clock.Now()
	cases := []struct {
		name   string
		token  func() string
		want   error
		reason string
	}{
		{"alg none", func() string { return mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignNone}) }, ErrAlgorithm, "algorithm"},
		{"HS256 keyed with public key", func() string {
			return mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignHS256PublicKey})
		}, ErrAlgorithm, "algorithm"},
		{"audience account only", func() string { return clientCredentials(t, kc, "plain-ci", "plain-secret") }, ErrAudience, "audience"},
		{"missing audience", func() string { return mint(t, kc, keycloak.MintOptions{Remove: []string{"aud"}}) }, ErrAudience, "audience"},
		{"expired", func() string { return mint(t, kc, keycloak.MintOptions{ClockOffset: -time.Hour}) }, ErrExpired, "expired"},
		{"missing exp", func() string { return mint(t, kc, keycloak.MintOptions{Remove: []string{"exp"}}) }, ErrMissingExpiry, "missing_exp"},
		{"nbf 10 minutes ahead", func() string {
			return mint(t, kc, keycloak.MintOptions{Set: map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}})
		}, ErrNotYetValid, "not_yet_valid"},
		{"iat an hour ahead", func() string {
			return mint(t, kc, keycloak.MintOptions{Set: map[string]any{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}})
		}, ErrIssuedInFuture, "issued_in_future"},
		{"ID token", func() string {
			return mint(t, kc, keycloak.MintOptions{Client: "coffer", Username: "alice", Kind: keycloak.IDToken, Scope: "openid"})
		}, ErrNotAccessToken, "token_type"},
		{"refresh token", func() string {
			return mint(t, kc, keycloak.MintOptions{Client: "coffer", Username: "alice", Kind: keycloak.RefreshToken})
		}, ErrAlgorithm, "algorithm"},
		{"refresh typ signed with realm key", func() string {
			return mint(t, kc, keycloak.MintOptions{Set: map[string]any{"typ": "Refresh"}})
		}, ErrNotAccessToken, "token_type"},
		{"issuer with trailing slash", func() string {
			return mint(t, kc, keycloak.MintOptions{Set: map[string]any{"iss": issuer + "/"}})
		}, ErrIssuer, "issuer"},
		{"issuer of another realm", func() string {
			return mint(t, kc, keycloak.MintOptions{Set: map[string]any{"iss": strings.TrimSuffix(issuer, testRealm) + "master"}})
		}, ErrIssuer, "issuer"},
		{"unknown kid", func() string { return mint(t, kc, keycloak.MintOptions{KeyID: "unknown-kid"}) }, ErrUnknownKey, "unknown_key"},
		{"unpublished key with known kid", func() string {
			return mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignUnpublishedKey})
		}, ErrSignature, "signature"},
		{"missing sub", func() string { return mint(t, kc, keycloak.MintOptions{Remove: []string{"sub"}}) }, ErrMissingSubject, "missing_sub"},
		{"exp as string", func() string {
			return mint(t, kc, keycloak.MintOptions{Set: map[string]any{"exp": "tomorrow"}})
		}, ErrMalformed, "malformed"},
		{"critical header", func() string {
			return mint(t, kc, keycloak.MintOptions{Header: map[string]any{"crit": []string{"exp"}}})
		}, ErrMalformed, "malformed"},
		{"not a JWS", func() string { return "not-a-token" }, ErrMalformed, "malformed"},
		{"oversized", func() string { return strings.Repeat("a", MaxTokenBytes+1) }, ErrMalformed, "malformed"},
	}
	v := newVerifier(t, kc, clock, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tc.token())
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %+v, %v; want %v", p, err, tc.want)
			}
			if got := Reason(err); got != tc.reason {
				t.Errorf("Reason = %q, want %q", got, tc.reason)
			}
		})
	}
}

func TestVerifyClockSkew(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	v := newVerifier(t, kc, clock, nil)
	now := clock.Now()
	cases := []struct {
		name string
		set  map[string]any
		want error
	}{
		{"nbf 30 seconds ahead", map[string]any{"nbf": now.Add(30 * time.Second).Unix()}, nil},
		{"iat 30 seconds ahead", map[string]any{"iat": now.Add(30 * time.Second).Unix()}, nil},
		{"exp 30 seconds ago", map[string]any{"exp": now.Add(-30 * time.Second).Unix()}, nil},
		{"exp 2 minutes ago", map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}, ErrExpired},
		{"nbf 2 minutes ahead", map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}, ErrNotYetValid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), mint(t, kc, keycloak.MintOptions{Set: tc.set}))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("Verify error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyAuthorizedParties(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	v := newVerifier(t, kc, clock, func(c *Config) { c.AllowedAuthorizedParties = []string{"coffer-cli"} })
	_, err := v.Verify(context.Background(), clientCredentials(t, kc, "ci", "ci-secret"))
	if !errors.Is(err, ErrAuthorizedParty) || Reason(err) != "azp" {
		t.Errorf("Verify error = %v, want ErrAuthorizedParty", err)
	}
	allowed := newVerifier(t, kc, clock, func(c *Config) { c.AllowedAuthorizedParties = []string{"ci"} })
	if _, err := allowed.Verify(context.Background(), clientCredentials(t, kc, "ci", "ci-secret")); err != nil {
		t.Errorf("Verify with ci allowed: %v", err)
	}
}

func TestVerifyAccessTokenRules(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	atJWT := newVerifier(t, kc, clock, func(c *Config) { c.AccessTokenRule = RuleATJWT })
	if _, err := atJWT.Verify(context.Background(), clientCredentials(t, kc, "at-ci", "at-secret")); err != nil {
		t.Errorf("at+jwt token: %v", err)
	}
	_, err := atJWT.Verify(context.Background(), clientCredentials(t, kc, "ci", "ci-secret"))
	if !errors.Is(err, ErrNotAccessToken) {
		t.Errorf("JWT typ under at+jwt rule: %v, want ErrNotAccessToken", err)
	}

	claim := newVerifier(t, kc, clock, func(c *Config) {
		c.AccessTokenRule, c.AccessTokenClaim, c.AccessTokenClaimValue = RuleClaim, "token_use", "access"
	})
	ok := mint(t, kc, keycloak.MintOptions{Set: map[string]any{"token_use": "access", "typ": "whatever"}})
	if _, err := claim.Verify(context.Background(), ok); err != nil {
		t.Errorf("token_use=access under claim rule: %v", err)
	}
	idLike := mint(t, kc, keycloak.MintOptions{Set: map[string]any{"token_use": "id"}})
	if _, err := claim.Verify(context.Background(), idLike); !errors.Is(err, ErrNotAccessToken) {
		t.Errorf("token_use=id under claim rule: %v, want ErrNotAccessToken", err)
	}
}

func TestVerifyES256Realm(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	if err := kc.SetSignatureAlgorithm(testRealm, "ES256"); err != nil {
		t.Fatal(err)
	}
	token := clientCredentials(t, kc, "ci", "ci-secret")

	es := newVerifier(t, kc, clock, func(c *Config) { c.Algorithms = []string{"ES256"} })
	if _, err := es.Verify(context.Background(), token); err != nil {
		t.Errorf("ES256 token with ES256 allowed: %v", err)
	}
	rs := newVerifier(t, kc, clock, nil)
	if _, err := rs.Verify(context.Background(), token); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("ES256 token with RS256 pinned: %v, want ErrAlgorithm", err)
	}
}

func TestNewRejectsSymmetricAlgorithms(t *testing.T) {
	for _, alg := range []string{"HS256", "none", ""} {
		_, err := New(Config{Issuer: "https://sso.example.com/realms/a", Audience: "coffer", Algorithms: []string{alg}})
		if err == nil {
			t.Errorf("New with algorithm %q: no error", alg)
		}
	}
	if _, err := New(Config{Issuer: "https://sso.example.com/realms/a", Audience: "coffer", ClockSkew: time.Hour}); err == nil {
		t.Error("New with a clock skew of 1h: no error")
	}
}
