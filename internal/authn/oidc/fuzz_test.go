package oidc

import (
	"context"
	"testing"

	"github.com/cofferhq/coffer/test/keycloak"
)

// FuzzVerify feeds arbitrary input to Verify: it must not panic, every
// rejection must carry a known reason, and anything accepted must be the
// seed token's principal.
func FuzzVerify(f *testing.F) {
	clock := newFakeClock()
	kc := startMock(f, clock, keycloak.Options{})
	v := newVerifier(f, kc, clock, nil)
	valid := clientCredentials(f, kc, "ci", "ci-secret")
	want, err := v.Verify(context.Background(), valid)
	if err != nil {
		f.Fatalf("seed token: %v", err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid + ".")
	f.Add("..")
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.")
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6W119.e30.AA")
	f.Add(mint(f, kc, keycloak.MintOptions{Signing: keycloak.SignNone}))
	f.Add(mint(f, kc, keycloak.MintOptions{Set: map[string]any{"aud": 7, "exp": -1}}))
	f.Fuzz(func(t *testing.T, token string) {
		p, err := v.Verify(context.Background(), token)
		if err != nil {
			if Reason(err) == "other" {
				t.Fatalf("untyped error for %q: %v", token, err)
			}
			return
		}
		if p.ID() != want.ID() || p.TokenID != want.TokenID {
			t.Fatalf("accepted %q as %s (%s), want only the seed principal", token, p.ID(), p.TokenID)
		}
	})
}
