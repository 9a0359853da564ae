package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/test/keycloak"
)

// verifyConcurrently verifies every token from its own goroutine and
// returns the errors.
func verifyConcurrently(v *Verifier, tokens []string) []error {
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, token := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = v.Verify(context.Background(), token)
		}()
	}
	wg.Wait()
	return errs
}

func TestUnknownKidFetchesOncePerCooldown(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	v := newVerifier(t, kc, clock, nil)
	if _, err := v.Verify(context.Background(), clientCredentials(t, kc, "ci", "ci-secret")); err != nil {
		t.Fatalf("valid token: %v", err)
	}

	randomKids := func(n int) []string {
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i] = mint(t, kc, keycloak.MintOptions{KeyID: fmt.Sprintf("random-kid-%d-%d", n, i)})
		}
		return tokens
	}
	tokens := randomKids(200)
	for i, err := range verifyConcurrently(v, tokens) {
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("token %d: %v, want ErrUnknownKey", i, err)
		}
	}
	if got := kc.JWKSFetches(testRealm); got != 1 {
		t.Errorf("JWKS fetches within the first cooldown = %d, want 1", got)
	}

	clock.Advance(31 * time.Second)
	for i, err := range verifyConcurrently(v, randomKids(200)) {
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("token %d after the cooldown: %v, want ErrUnknownKey", i, err)
		}
	}
	if got := kc.JWKSFetches(testRealm); got != 2 {
		t.Errorf("JWKS fetches after one cooldown = %d, want 2", got)
	}
}

func TestKeyRotation(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	v := newVerifier(t, kc, clock, nil)
	oldKid, err := kc.ActiveKeyID(testRealm)
	if err != nil {
		t.Fatal(err)
	}
	oldToken := clientCredentials(t, kc, "ci", "ci-secret")
	if _, err := v.Verify(context.Background(), oldToken); err != nil {
		t.Fatalf("token of the first key: %v", err)
	}

	newKid, err := kc.RotateKey(testRealm, "RS256")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(31 * time.Second)
	for i := range 3 {
		newToken := clientCredentials(t, kc, "ci", "ci-secret")
		if _, err := v.Verify(context.Background(), newToken); err != nil {
			t.Fatalf("token %d of the new key %s: %v", i, newKid, err)
		}
	}
	if got := kc.JWKSFetches(testRealm); got != 2 {
		t.Errorf("JWKS fetches after rotation = %d, want 2 (the new kid fetched once)", got)
	}
	if _, err := v.Verify(context.Background(), oldToken); err != nil {
		t.Errorf("token of the passive key %s: %v", oldKid, err)
	}

	// Once the old key is no longer published and the cache has aged,
	// tokens it signed fail.
	if err := kc.SetKeyState(testRealm, oldKid, keycloak.KeyDisabled); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2*time.Minute + time.Second)
	if _, err := v.Verify(context.Background(), oldToken); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("token of the disabled key: %v, want ErrUnknownKey", err)
	}
	if got := kc.JWKSFetches(testRealm); got != 3 {
		t.Errorf("JWKS fetches after the cache aged = %d, want 3", got)
	}
}

func TestKeysUnavailable(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	if err := kc.FailJWKS(testRealm, http.StatusServiceUnavailable); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, kc, clock, nil)
	token := clientCredentials(t, kc, "ci", "ci-secret")
	_, err := v.Verify(context.Background(), token)
	if !errors.Is(err, ErrKeysUnavailable) || Reason(err) != "keys_unavailable" {
		t.Fatalf("Verify with a failing JWKS: %v, want ErrKeysUnavailable", err)
	}

	if err := kc.FailJWKS(testRealm, 0); err != nil {
		t.Fatal(err)
	}
	// Within the cooldown the keys stay unavailable; after it they are
	// fetched again.
	if _, err := v.Verify(context.Background(), token); !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("Verify within the cooldown after a failed fetch: %v, want ErrKeysUnavailable", err)
	}
	clock.Advance(31 * time.Second)
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Errorf("Verify after the JWKS recovered: %v", err)
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	if err := kc.SetDiscoveryIssuer(testRealm, "https://evil.example.com/realms/coffer"); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, kc, clock, nil)
	_, err := v.Verify(context.Background(), clientCredentials(t, kc, "ci", "ci-secret"))
	if !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("Verify with a discovery document of another issuer: %v, want ErrKeysUnavailable", err)
	}
}

func TestInternalDiscoveryURL(t *testing.T) {
	// Tokens name the public issuer; discovery and the JWKS are reached
	// through the listener address, as with Keycloak's backchannel
	// hostname.
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{PublicURL: "https://sso.example.com", RelativePath: "/auth"})
	v := newVerifier(t, kc, clock, func(c *Config) {
		c.DiscoveryURL = kc.URL() + "/realms/" + testRealm + "/.well-known/openid-configuration"
	})
	if got := kc.Issuer(testRealm); got != "https://sso.example.com/auth/realms/coffer" {
		t.Fatalf("issuer = %q", got)
	}
	p, err := v.Verify(context.Background(), clientCredentials(t, kc, "ci", "ci-secret"))
	if err != nil {
		t.Fatalf("Verify through the internal discovery URL: %v", err)
	}
	if p.Issuer != "https://sso.example.com/auth/realms/coffer" {
		t.Errorf("principal issuer = %q", p.Issuer)
	}
}

func TestVerifyCanceledContext(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	v := newVerifier(t, kc, clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.Verify(ctx, clientCredentials(t, kc, "ci", "ci-secret"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a canceled context: %v, want context.Canceled", err)
	}
}

func TestReadyFetchesKeysOnce(t *testing.T) {
	clock := newFakeClock()
	kc := startMock(t, clock, keycloak.Options{})
	if err := kc.FailJWKS(testRealm, http.StatusServiceUnavailable); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, kc, clock, nil)
	if err := v.Ready(context.Background()); !errors.Is(err, ErrKeysUnavailable) {
		t.Fatalf("Ready with a failing JWKS: %v, want ErrKeysUnavailable", err)
	}

	if err := kc.FailJWKS(testRealm, 0); err != nil {
		t.Fatal(err)
	}
	if err := v.Ready(context.Background()); !errors.Is(err, ErrKeysUnavailable) {
		t.Errorf("Ready within the cooldown after a failed fetch: %v, want ErrKeysUnavailable", err)
	}
	clock.Advance(31 * time.Second)
	if err := v.Ready(context.Background()); err != nil {
		t.Errorf("Ready after the JWKS recovered: %v", err)
	}
	fetches := kc.JWKSFetches(testRealm)
	if err := v.Ready(context.Background()); err != nil {
		t.Errorf("Ready with cached keys: %v", err)
	}
	if got := kc.JWKSFetches(testRealm); got != fetches {
		t.Errorf("JWKS fetches after Ready with cached keys = %d, want %d", got, fetches)
	}
}
