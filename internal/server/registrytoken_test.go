package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/test/keycloak"
)

// ciPolicy lets principals with the Coffer role ci pull and push below ci/.
const ciPolicy = `[{"id":"ci-push","effect":"Allow","principals":["role:ci"],"actions":["oci:pull","oci:push"],"resources":["repo:ci/**"]}]`

// startRegistryWithKeycloak starts a mock Keycloak whose client ci has the
// client role team-a-dev on coffer, and a cofferd that maps that role to
// ci and allows ciPolicy. The JWKS cooldown is an hour, so a test sees at
// most one refetch.
func startRegistryWithKeycloak(t *testing.T) (*keycloak.Server, *testServer) {
	t.Helper()
	kc := keycloak.New(keycloak.Options{})
	err := kc.AddRealm(keycloak.RealmConfig{Name: "coffer", Clients: []keycloak.ClientConfig{
		{ClientID: "coffer", Secret: "coffer-secret", Roles: []string{"team-a-dev"}},
		{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"},
			ServiceAccountClientRoles: map[string][]string{"coffer": {"team-a-dev"}}},
		{ClientID: "guest", Secret: "guest-secret", ServiceAccount: true, Audiences: []string{"coffer"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kc.Close() })
	srv := startServer(t, false,
		"COFFER_AUTH_OIDC_ISSUER="+kc.Issuer("coffer"), "COFFER_AUTH_OIDC_AUDIENCE=coffer",
		"COFFER_AUTH_OIDC_JWKS_REFRESH_COOLDOWN=1h", "COFFER_AUTH_OIDC_JWKS_MAX_AGE=1h",
		"COFFER_AUTH_ROLES_CLIENT=coffer", `COFFER_AUTH_ROLES_CLIENT_ROLES={"team-a-dev":["ci"]}`,
		"COFFER_AUTH_POLICIES="+ciPolicy,
		// The tests send many rejected tokens on purpose, which the abuse
		// limits would otherwise slow down and then refuse with 429.
		"COFFER_LIMITS_FAILED_LOGIN_DELAY=0s", "COFFER_LIMITS_FAILED_LOGINS_PER_ADDRESS=0", "COFFER_LIMITS_FAILED_LOGINS_PER_PRINCIPAL=0",
	)
	return kc, srv
}

func mint(t *testing.T, kc *keycloak.Server, opts keycloak.MintOptions) string {
	t.Helper()
	if opts.Client == "" {
		opts.Client = "ci"
	}
	token, err := kc.Mint("coffer", opts)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// registryGet sends GET path with the Authorization header value.
func registryGet(t *testing.T, srv *testServer, path, authorization string) (int, http.Header, []byte) {
	t.Helper()
	req := newRequest(t, http.MethodGet, srv.api+path, nil)
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&body)
	return resp.StatusCode, resp.Header, []byte(body.String())
}

func TestRegistryRejectsBadOIDCTokens(t *testing.T) {
	kc, srv := startRegistryWithKeycloak(t)
	const path = "/v2/ci/app/tags/list"
	now := time.Now()

	status, _, body := registryGet(t, srv, path, "Bearer "+mint(t, kc, keycloak.MintOptions{}))
	if status != http.StatusNotFound || !strings.Contains(string(body), "NAME_UNKNOWN") {
		t.Fatalf("a valid access token as bearer: %d %s, want 404 NAME_UNKNOWN", status, body)
	}

	cases := map[string]string{
		"alg none":                  mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignNone}),
		"HS256 with the public key": mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignHS256PublicKey}),
		"audience account only":     mint(t, kc, keycloak.MintOptions{Set: map[string]any{"aud": "account"}}),
		"audience missing":          mint(t, kc, keycloak.MintOptions{Remove: []string{"aud"}}),
		"expired":                   mint(t, kc, keycloak.MintOptions{ClockOffset: -time.Hour}),
		"without exp":               mint(t, kc, keycloak.MintOptions{Remove: []string{"exp"}}),
		"nbf 10 minutes ahead":      mint(t, kc, keycloak.MintOptions{Set: map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}}),
		"iat an hour ahead":         mint(t, kc, keycloak.MintOptions{Set: map[string]any{"iat": now.Add(time.Hour).Unix()}}),
		"ID token":                  mint(t, kc, keycloak.MintOptions{Kind: keycloak.IDToken, Scope: "openid"}),
		"unpublished key":           mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignUnpublishedKey}),
		"malformed":                 "abc.def.ghi",
		"two segments":              "abc.def",
		"empty":                     "",
		"space inside":              "abc def.ghi.jkl",
	}
	for name, token := range cases {
		status, header, body := registryGet(t, srv, path, "Bearer "+token)
		if status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401 (body %s)", name, status, body)
			continue
		}
		if got := header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer realm="`) || !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge with error=\"invalid_token\"", name, got)
		}
	}

	refresh := refreshToken(t, kc)
	if status, _, body := registryGet(t, srv, path, "Bearer "+refresh); status != http.StatusUnauthorized {
		t.Errorf("refresh token as bearer: status %d, want 401 (body %s)", status, body)
	}
}

// refreshToken obtains a refresh token with the password grant.
func refreshToken(t *testing.T, kc *keycloak.Server) string {
	t.Helper()
	if _, err := kc.AddUser("coffer", keycloak.UserConfig{Username: "dev", Password: "dev-password"}); err != nil {
		t.Fatal(err)
	}
	if err := kc.AddClient("coffer", keycloak.ClientConfig{ClientID: "cli", DirectAccessGrants: true, Audiences: []string{"coffer"}}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"password"}, "client_id": {"cli"}, "username": {"dev"}, "password": {"dev-password"}}
	resp, err := http.PostForm(kc.Issuer("coffer")+"/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.RefreshToken == "" {
		t.Fatalf("password grant: status %d, refresh token %q, error %v", resp.StatusCode, body.RefreshToken, err)
	}
	return body.RefreshToken
}

func TestRegistryRandomKeyIDsFetchOnce(t *testing.T) {
	kc, srv := startRegistryWithKeycloak(t)
	// A valid token first, so the verifier holds the keys.
	if status, _, body := registryGet(t, srv, "/v2/", "Bearer "+mint(t, kc, keycloak.MintOptions{})); status != http.StatusOK {
		t.Fatalf("valid token: %d %s", status, body)
	}
	before := kc.JWKSFetches("coffer")
	for i := range 200 {
		token := mint(t, kc, keycloak.MintOptions{KeyID: fmt.Sprintf("random-kid-%03d", i)})
		if status, _, body := registryGet(t, srv, "/v2/", "Bearer "+token); status != http.StatusUnauthorized {
			t.Fatalf("token %d with an unknown kid: status %d, want 401 (body %s)", i, status, body)
		}
	}
	if fetches := kc.JWKSFetches("coffer") - before; fetches > 1 {
		t.Errorf("200 unknown kids caused %d JWKS fetches, want at most 1 within the cooldown", fetches)
	}
}

func TestRegistryHugeHeader(t *testing.T) {
	_, srv := startRegistryWithKeycloak(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.api, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	header := "GET /v2/ HTTP/1.1\r\nHost: coffer\r\nAuthorization: Bearer " + strings.Repeat("a", 4<<20) + "\r\n\r\n"
	// The server may respond and close before reading the whole header,
	// so a failed write is expected; the response is what counts.
	go func() { _, _ = conn.Write([]byte(header)) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the response to a 4 MiB header: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("4 MiB header: status %d, want 431", resp.StatusCode)
	}
}

func TestRegistryKeycloakTokenAsPassword(t *testing.T) {
	kc, srv := startRegistryWithKeycloak(t)
	accessToken := mint(t, kc, keycloak.MintOptions{})

	query := url.Values{"service": {"coffer"}, "scope": {"repository:ci/app:pull,push,delete", "repository:other/app:pull"}}
	req := newRequest(t, http.MethodGet, srv.api+"/v2/token?"+query.Encode(), nil)
	req.SetBasicAuth("oauth2", accessToken)
	status, body := send(t, req)
	if status != http.StatusOK {
		t.Fatalf("token request with a Keycloak token as the password: %d %s", status, body)
	}
	var token struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &token); err != nil {
		t.Fatal(err)
	}
	if status, _, body := registryGet(t, srv, "/v2/ci/app/tags/list", "Bearer "+token.Token); status != http.StatusNotFound {
		t.Errorf("pull with the registry token: %d %s, want 404 NAME_UNKNOWN", status, body)
	}
	if status, _, body := registryGet(t, srv, "/v2/other/app/tags/list", "Bearer "+token.Token); status != http.StatusForbidden {
		t.Errorf("pull outside the policy: %d %s, want 403 DENIED", status, body)
	}

	guest := mint(t, kc, keycloak.MintOptions{Client: "guest"})
	req = newRequest(t, http.MethodPost, srv.api+"/v2/ci/app/blobs/uploads/", nil)
	req.Header.Set("Authorization", "Bearer "+guest)
	if status, body := send(t, req); status != http.StatusForbidden || !strings.Contains(string(body), "DENIED") {
		t.Errorf("push by a principal without rights: %d %s, want 403 DENIED", status, body)
	}

	req = newRequest(t, http.MethodGet, srv.api+"/v2/token?service=coffer", nil)
	req.SetBasicAuth("oauth2", mint(t, kc, keycloak.MintOptions{Signing: keycloak.SignNone}))
	if status, body := send(t, req); status != http.StatusUnauthorized {
		t.Errorf("token request with an alg:none token as the password: %d %s, want 401", status, body)
	}
}
