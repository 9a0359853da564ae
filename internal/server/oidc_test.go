package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/test/keycloak"
)

// startOIDCServer starts a mock Keycloak and a cofferd that accepts its
// tokens, with the extra environment, and returns both with the server's
// log. The realm has the users alice and bob.
func startOIDCServer(t *testing.T, extra ...string) (*keycloak.Server, string, *lockedBuffer) {
	t.Helper()
	kc := keycloak.New(keycloak.Options{})
	err := kc.AddRealm(keycloak.RealmConfig{Name: "coffer", Clients: []keycloak.ClientConfig{
		{ClientID: "coffer", Secret: "coffer-secret"},
		{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"}, GroupsClaim: "groups"},
		{ClientID: "plain", Secret: "plain-secret", ServiceAccount: true},
	}, Roles: []string{"artifact-admin"}, Groups: []string{"/eng/web"}, Users: []keycloak.UserConfig{
		{Username: "alice", Password: "alice-password", RealmRoles: []string{"artifact-admin"}},
		{Username: "bob", Password: "bob-password", Groups: []string{"/eng/web"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kc.Close() })

	addresses := freeAddresses(t, 2)
	environ := []string{
		"COFFER_ROOT_USER=" + testRootUser, "COFFER_ROOT_PASSWORD=" + testRootPassword,
		"COFFER_AUTH_OIDC_ISSUER=" + kc.Issuer("coffer"), "COFFER_AUTH_OIDC_AUDIENCE=coffer",
	}
	environ = append(environ, extra...)
	cfg, _, err := config.Load(config.Flags{DataDir: t.TempDir(), Listen: addresses[0], S3Listen: addresses[1]}, environ)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	api := "http://" + cfg.Listen
	waitStarted(t, api, done)
	return kc, api, logs
}

// serviceAccountToken mints a client_credentials access token.
func serviceAccountToken(t *testing.T, kc *keycloak.Server, client string) string {
	t.Helper()
	token, err := kc.Mint("coffer", keycloak.MintOptions{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func bearerRequest(t *testing.T, method, url, token string) *http.Request {
	t.Helper()
	req := newRequest(t, method, url, nil)
	req.Header.Del("Authorization")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func TestManagementAPIAcceptsBearer(t *testing.T) {
	kc, api, logs := startOIDCServer(t, `COFFER_AUTH_POLICIES=[{"id": "read-info", "effect": "Allow", "principals": ["*"], "actions": ["coffer:system.read"], "resources": ["coffer:system"]}]`)
	subject, err := kc.UserID("coffer", "service-account-ci")
	if err != nil {
		t.Fatal(err)
	}

	status, body := send(t, bearerRequest(t, http.MethodGet, api+"/api/v1/system/info", serviceAccountToken(t, kc, "ci")))
	if status != http.StatusOK {
		t.Fatalf("GET with a valid token: %d %s", status, body)
	}
	principal := "principal=" + kc.Issuer("coffer") + "#" + subject
	if !strings.Contains(logs.String(), principal) {
		t.Errorf("access log lacks %q:\n%s", principal, logs.String())
	}

	resp, err := http.DefaultClient.Do(bearerRequest(t, http.MethodGet, api+"/api/v1/system/info", serviceAccountToken(t, kc, "plain")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("token without the coffer audience: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	status, body = send(t, bearerRequest(t, http.MethodDelete, api+"/api/v1/buckets/builds", serviceAccountToken(t, kc, "ci")))
	if status != http.StatusForbidden || !strings.Contains(string(body), "may not s3:DeleteBucket on arn:aws:s3:::builds") {
		t.Errorf("DELETE that no policy allows: %d %s, want 403", status, body)
	}
	if status, body := send(t, newRequest(t, http.MethodGet, api+"/api/v1/system/info", nil)); status != http.StatusOK {
		t.Errorf("GET with root credentials: %d %s", status, body)
	}

	families := scrape(t, newRequest(t, http.MethodGet, api+"/metrics", nil))
	checks := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		// The GET and the denied DELETE both authenticate.
		{"coffer_auth_attempts_total", map[string]string{"method": "oidc", "result": "ok"}, 2},
		{"coffer_auth_attempts_total", map[string]string{"method": "oidc", "result": "failed"}, 1},
		{"coffer_auth_failures_total", map[string]string{"method": "oidc", "reason": "audience"}, 1},
	}
	for _, c := range checks {
		if got, found := sampleValue(families, c.family, c.labels); !found || got != c.want {
			t.Errorf("%s%v = %v (found %t), want %v", c.family, c.labels, got, found, c.want)
		}
	}
}

func TestReadyzChecksOIDCKeys(t *testing.T) {
	kc, api, _ := startOIDCServer(t)
	if err := kc.FailJWKS("coffer", http.StatusServiceUnavailable); err != nil {
		t.Fatal(err)
	}
	status, body := send(t, newRequest(t, http.MethodGet, api+"/readyz", nil))
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "oidc") {
		t.Errorf("GET /readyz while the JWKS fails: %d %s, want 503 naming oidc", status, body)
	}
}

func TestReadyzWithOIDCKeys(t *testing.T) {
	_, api, _ := startOIDCServer(t)
	status, body := send(t, newRequest(t, http.MethodGet, api+"/readyz", nil))
	if status != http.StatusOK {
		t.Errorf("GET /readyz with a working JWKS: %d %s, want 200", status, body)
	}
}
