package keycloak

import (
	"net/http"
	"net/url"
	"testing"
)

func TestIntrospectionAndRevocation(t *testing.T) {
	s := startTestServer(t, Options{})
	access := token(t, s, url.Values{"grant_type": {"client_credentials"}}, "ci:ci-secret").str("access_token")
	introspect := func(tok, basic string) response {
		return call(t, s, http.MethodPost, "/protocol/openid-connect/token/introspect", url.Values{"token": {tok}}, basic, "")
	}
	r := introspect(access, "coffer:coffer-secret")
	if r.status != http.StatusOK || r.body["active"] != true || r.str("client_id") != "ci" || r.str("username") != "service-account-ci" {
		t.Fatalf("introspection = %d %v", r.status, r.body)
	}
	if r := introspect("garbage", "coffer:coffer-secret"); r.body["active"] != false || len(r.body) != 1 {
		t.Errorf("garbage introspection = %v, want only active false", r.body)
	}
	wantError(t, call(t, s, http.MethodPost, "/protocol/openid-connect/token/introspect", url.Values{"token": {access}, "client_id": {"cli"}}, "", ""),
		http.StatusForbidden, "invalid_request", "Client not allowed.")
	wantError(t, call(t, s, http.MethodPost, "/protocol/openid-connect/token/introspect", url.Values{}, "coffer:coffer-secret", ""),
		http.StatusBadRequest, "invalid_request", "Token not provided.")

	revoke := call(t, s, http.MethodPost, "/protocol/openid-connect/revoke", url.Values{"token": {access}}, "ci:ci-secret", "")
	if revoke.status != http.StatusOK {
		t.Fatalf("revoke = %d %v", revoke.status, revoke.body)
	}
	if r := introspect(access, "coffer:coffer-secret"); r.body["active"] != false {
		t.Errorf("introspection after revoke = %v, want active false", r.body)
	}
}

func TestIntrospectionEndsWithSession(t *testing.T) {
	s := startTestServer(t, Options{})
	login := token(t, s, url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"alice"}, "password": {"alice-password"}}, "")
	introspect := func() any {
		r := call(t, s, http.MethodPost, "/protocol/openid-connect/token/introspect", url.Values{"token": {login.str("access_token")}}, "coffer:coffer-secret", "")
		return r.body["active"]
	}
	if introspect() != true {
		t.Fatal("access token inactive before logout")
	}
	call(t, s, http.MethodPost, "/protocol/openid-connect/revoke", url.Values{"token": {login.str("refresh_token")}, "client_id": {"cli"}}, "", "")
	if introspect() != false {
		t.Error("access token still active after its refresh token was revoked")
	}
}

func TestUserinfo(t *testing.T) {
	s := startTestServer(t, Options{})
	login := func(scope string) string {
		form := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"alice"}, "password": {"alice-password"}, "scope": {scope}}
		return token(t, s, form, "").str("access_token")
	}
	r := call(t, s, http.MethodGet, "/protocol/openid-connect/userinfo", nil, "", login("openid"))
	id, _ := s.UserID(realmName, "alice")
	if r.status != http.StatusOK || r.str("sub") != id || r.str("email") != "alice@example.com" || r.str("name") != "Alice Doe" {
		t.Fatalf("userinfo = %d %v", r.status, r.body)
	}
	wantError(t, call(t, s, http.MethodGet, "/protocol/openid-connect/userinfo", nil, "", login("")),
		http.StatusForbidden, "insufficient_scope", "Missing openid scope")
	wantError(t, call(t, s, http.MethodGet, "/protocol/openid-connect/userinfo", nil, "", "garbage"),
		http.StatusUnauthorized, "invalid_token", "Token verification failed")
}

func TestMintFaults(t *testing.T) {
	s := startTestServer(t, Options{})
	none, err := s.Mint(realmName, MintOptions{Client: "ci", Signing: SignNone})
	if err != nil || decodePart(t, none, 0)["alg"] != "none" || none[len(none)-1] != '.' {
		t.Errorf("SignNone = %q, %v", none, err)
	}
	hs, err := s.Mint(realmName, MintOptions{Client: "ci", Signing: SignHS256PublicKey})
	if err != nil || decodePart(t, hs, 0)["alg"] != "HS256" {
		t.Errorf("SignHS256PublicKey = %q, %v", hs, err)
	}
	set, err := s.Mint(realmName, MintOptions{Client: "ci", Set: map[string]any{"aud": "x"}, Remove: []string{"exp"}, Header: map[string]any{"typ": "at+jwt"}})
	if err != nil {
		t.Fatal(err)
	}
	if claims := decodePart(t, set, 1); claims["aud"] != "x" || claims["exp"] != nil {
		t.Errorf("overridden claims = %v", claims)
	}
	if typ := decodePart(t, set, 0)["typ"]; typ != "at+jwt" {
		t.Errorf("header typ = %v", typ)
	}
}
