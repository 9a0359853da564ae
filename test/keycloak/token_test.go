package keycloak

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
)

func TestDiscoveryAndJWKS(t *testing.T) {
	s := startTestServer(t, Options{PublicURL: "https://sso.example.com", RelativePath: "/auth"})
	doc := call(t, s, http.MethodGet, "/.well-known/openid-configuration", nil, "", "")
	if doc.status != http.StatusOK || doc.str("issuer") != "https://sso.example.com/auth/realms/test" {
		t.Fatalf("discovery = %d, issuer %q", doc.status, doc.str("issuer"))
	}
	if got, want := doc.str("jwks_uri"), s.URL()+"/realms/test/protocol/openid-connect/certs"; got != want {
		t.Errorf("jwks_uri = %q, want the backend URL %q", got, want)
	}
	if got := doc.str("authorization_endpoint"); got != "https://sso.example.com/auth/realms/test/protocol/openid-connect/auth" {
		t.Errorf("authorization_endpoint = %q, want the frontend URL", got)
	}

	jwks := call(t, s, http.MethodGet, "/protocol/openid-connect/certs", nil, "", "")
	keys, _ := jwks.body["keys"].([]any)
	var uses []string
	for _, k := range keys {
		key := k.(map[string]any)
		uses = append(uses, key["use"].(string)+":"+key["alg"].(string))
		if len(key["x5c"].([]any)) != 1 || key["x5t"] == nil || key["x5t#S256"] == nil || len(key["kid"].(string)) != 43 {
			t.Errorf("key %v lacks x5c, x5t, x5t#S256 or a 43-character kid", key)
		}
	}
	if !slices.Equal(uses, []string{"sig:RS256", "enc:RSA-OAEP"}) {
		t.Errorf("JWKS keys = %q, want sig:RS256 and enc:RSA-OAEP", uses)
	}
	if s.JWKSFetches(realmName) != 1 {
		t.Errorf("JWKSFetches = %d, want 1", s.JWKSFetches(realmName))
	}

	missing, err := http.Get(s.URL() + "/realms/nope/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	missing.Body.Close()
	if missing.StatusCode != http.StatusNotFound {
		t.Errorf("unknown realm: status %d, want 404", missing.StatusCode)
	}
}

func TestClientCredentialsClaims(t *testing.T) {
	s := startTestServer(t, Options{})
	r := token(t, s, url.Values{"grant_type": {"client_credentials"}}, "ci:ci-secret")
	if r.status != http.StatusOK || r.str("token_type") != "Bearer" || r.body["expires_in"] != 300.0 || r.body["refresh_expires_in"] != 0.0 {
		t.Fatalf("response = %d %v", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("cache headers = %q, %q", r.header.Get("Cache-Control"), r.header.Get("Pragma"))
	}
	if _, ok := r.body["refresh_token"]; ok {
		t.Error("client_credentials returned a refresh token")
	}
	header := decodePart(t, r.str("access_token"), 0)
	kid, _ := s.ActiveKeyID(realmName)
	if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] != kid {
		t.Errorf("header = %v", header)
	}
	claims := decodePart(t, r.str("access_token"), 1)
	sub, _ := s.UserID(realmName, "service-account-ci")
	want := map[string]any{
		"iss": s.Issuer(realmName), "sub": sub, "typ": "Bearer", "azp": "ci",
		"aud": []any{"coffer", "account"}, "preferred_username": "service-account-ci",
		"scope": "profile email", "groups": []any{"/eng/platform"}, "client_id": "ci",
		"realm_access":    map[string]any{"roles": []any{"default-roles-test", "offline_access", "uma_authorization"}},
		"resource_access": map[string]any{"account": map[string]any{"roles": []any{"manage-account", "manage-account-links", "view-profile"}}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(claims[k], v) {
			t.Errorf("claim %s = %#v, want %#v", k, claims[k], v)
		}
	}
	if _, ok := claims["sid"]; ok {
		t.Error("service-account token has a sid")
	}
	if claims["exp"].(float64)-claims["iat"].(float64) != 300 {
		t.Errorf("lifetime = %v s, want 300", claims["exp"].(float64)-claims["iat"].(float64))
	}

	plain := decodePart(t, token(t, s, url.Values{"grant_type": {"client_credentials"}}, "plain:plain-secret").str("access_token"), 1)
	if plain["aud"] != "account" {
		t.Errorf("aud without audience mapper = %#v, want the string account", plain["aud"])
	}
	light := decodePart(t, token(t, s, url.Values{"grant_type": {"client_credentials"}}, "light:light-secret").str("access_token"), 1)
	for _, gone := range []string{"aud", "realm_access", "preferred_username"} {
		if _, ok := light[gone]; ok {
			t.Errorf("lightweight token has %s", gone)
		}
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	s := startTestServer(t, Options{})
	cc := url.Values{"grant_type": {"client_credentials"}}
	wantError(t, token(t, s, cc, "ci:wrong"), http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
	wantError(t, token(t, s, cc, "nobody:x"), http.StatusBadRequest, "invalid_client", "Invalid client or Invalid client credentials")
	wantError(t, token(t, s, cc, "web:web-secret"), http.StatusUnauthorized, "unauthorized_client", "Client not enabled to retrieve service account")
	wantError(t, token(t, s, url.Values{"grant_type": {"authorization_code"}}, "ci:ci-secret"), http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
	wantError(t, token(t, s, url.Values{}, "ci:ci-secret"), http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
	wantError(t, token(t, s, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, "ci:ci-secret"),
		http.StatusBadRequest, "invalid_request", "duplicated parameter grant_type")
	post := url.Values{"grant_type": {"client_credentials"}, "client_id": {"ci"}, "client_secret": {"ci-secret"}}
	if r := token(t, s, post, ""); r.status != http.StatusOK {
		t.Errorf("client_secret_post: %d %v", r.status, r.body)
	}
}

func TestPasswordAndRefresh(t *testing.T) {
	s := startTestServer(t, Options{})
	login := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"alice"}, "password": {"alice-password"}, "scope": {"openid"}}
	r := token(t, s, login, "")
	if r.status != http.StatusOK || r.str("refresh_token") == "" || r.str("id_token") == "" || r.str("session_state") == "" {
		t.Fatalf("password grant = %d %v", r.status, r.body)
	}
	access := decodePart(t, r.str("access_token"), 1)
	if access["sid"] != r.str("session_state") || access["scope"] != "openid profile email" || access["acr"] != "1" {
		t.Errorf("access claims sid %v, scope %v, acr %v", access["sid"], access["scope"], access["acr"])
	}
	if !reflect.DeepEqual(access["groups"], []any{"platform", "ops"}) {
		t.Errorf("groups with short names = %v", access["groups"])
	}
	id := decodePart(t, r.str("id_token"), 1)
	if id["typ"] != "ID" || id["aud"] != "cli" || id["at_hash"] == nil {
		t.Errorf("ID token claims = %v", id)
	}
	refresh := decodePart(t, r.str("refresh_token"), 1)
	if refresh["typ"] != "Refresh" || refresh["aud"] != s.Issuer(realmName) || decodePart(t, r.str("refresh_token"), 0)["alg"] != "HS512" {
		t.Errorf("refresh token = %v", refresh)
	}

	again := token(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {"cli"}, "refresh_token": {r.str("refresh_token")}}, "")
	if again.status != http.StatusOK || decodePart(t, again.str("access_token"), 1)["sid"] != access["sid"] {
		t.Fatalf("refresh = %d %v", again.status, again.body)
	}
	wantError(t, token(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r.str("refresh_token")}}, "web:web-secret"),
		http.StatusBadRequest, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
	wantError(t, token(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {"cli"}, "refresh_token": {r.str("access_token")}}, ""),
		http.StatusBadRequest, "invalid_grant", "Invalid refresh token")

	logout := call(t, s, http.MethodPost, "/protocol/openid-connect/logout", url.Values{"client_id": {"cli"}, "refresh_token": {r.str("refresh_token")}}, "", "")
	if logout.status != http.StatusNoContent {
		t.Fatalf("logout = %d %v", logout.status, logout.body)
	}
	wantError(t, token(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {"cli"}, "refresh_token": {r.str("refresh_token")}}, ""),
		http.StatusBadRequest, "invalid_grant", "Session not active")

	bad := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"alice"}, "password": {"wrong"}}
	wantError(t, token(t, s, bad, ""), http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
	disabled := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"mallory"}, "password": {"mallory-password"}}
	wantError(t, token(t, s, disabled, ""), http.StatusBadRequest, "invalid_grant", "Account disabled")
	wantError(t, token(t, s, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alice-password"}}, "web:web-secret"),
		http.StatusBadRequest, "unauthorized_client", "Client not allowed for direct access grants")
}

func TestTokenExchange(t *testing.T) {
	s := startTestServer(t, Options{})
	subject := token(t, s, url.Values{"grant_type": {"client_credentials"}}, "ci:ci-secret").str("access_token")
	exchange := url.Values{
		"grant_type":         {grantTokenExchange},
		"subject_token":      {subject},
		"subject_token_type": {tokenTypeAccess},
	}
	r := token(t, s, exchange, "coffer:coffer-secret")
	if r.status != http.StatusOK || r.str("issued_token_type") != tokenTypeAccess {
		t.Fatalf("exchange = %d %v", r.status, r.body)
	}
	claims := decodePart(t, r.str("access_token"), 1)
	sub, _ := s.UserID(realmName, "service-account-ci")
	if claims["azp"] != "coffer" || claims["sub"] != sub {
		t.Errorf("exchanged azp %v sub %v; want coffer and %s", claims["azp"], claims["sub"], sub)
	}

	withAudience := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {subject}, "audience": {"ci"}}
	if got := decodePart(t, token(t, s, withAudience, "coffer:coffer-secret").str("access_token"), 1)["aud"]; got != "ci" {
		t.Errorf("aud with audience=ci: %v", got)
	}
	twoAudiences := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {subject}, "audience": {"ci", "plain"}}
	if got := decodePart(t, token(t, s, twoAudiences, "coffer:coffer-secret").str("access_token"), 1)["aud"]; !reflect.DeepEqual(got, []any{"ci", "plain"}) {
		t.Errorf("aud with two audience parameters: %v", got)
	}
	wantError(t, token(t, s, exchange, "plain:plain-secret"), http.StatusBadRequest, "unauthorized_client",
		"Standard token exchange is not enabled for the requested client")
	plainSubject := token(t, s, url.Values{"grant_type": {"client_credentials"}}, "plain:plain-secret").str("access_token")
	notInAud := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {plainSubject}}
	wantError(t, token(t, s, notInAud, "coffer:coffer-secret"), http.StatusForbidden, "access_denied", "Client is not within the token audience")
	wantError(t, token(t, s, url.Values{"grant_type": {grantTokenExchange}}, "coffer:coffer-secret"),
		http.StatusBadRequest, "invalid_request", "Missing parameter: subject_token")
}
