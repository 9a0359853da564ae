package keycloak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const realmName = "test"

var testRealm = RealmConfig{
	Name:   realmName,
	Roles:  []string{"artifact-admin"},
	Groups: []string{"/eng/platform", "/ops"},
	Clients: []ClientConfig{
		{ClientID: "coffer", Secret: "coffer-secret", Roles: []string{"team-a-dev"}, TokenExchange: true},
		{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"}, GroupsClaim: "groups",
			ServiceAccountGroups: []string{"/eng/platform"}},
		{ClientID: "plain", Secret: "plain-secret", ServiceAccount: true},
		{ClientID: "light", Secret: "light-secret", ServiceAccount: true, Lightweight: true},
		{ClientID: "cli", DeviceGrant: true, DirectAccessGrants: true, Audiences: []string{"coffer"},
			GroupsClaim: "groups", GroupsShortNames: true},
		{ClientID: "web", Secret: "web-secret"},
	},
	Users: []UserConfig{
		{Username: "alice", Password: "alice-password", Email: "alice@example.com", FirstName: "Alice", LastName: "Doe",
			RealmRoles: []string{"artifact-admin"}, ClientRoles: map[string][]string{"coffer": {"team-a-dev"}},
			Groups: []string{"/eng/platform", "/ops"}},
		{Username: "mallory", Password: "mallory-password", Disabled: true},
	},
}

func startTestServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if err := s.AddRealm(testRealm); err != nil {
		t.Fatalf("add realm: %v", err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// response is a decoded JSON response.
type response struct {
	status int
	body   map[string]any
	header http.Header
}

func (r response) str(key string) string { s, _ := r.body[key].(string); return s }

// call sends a request to a realm endpoint. form is sent as the body when
// not nil; basic is "id:secret" for client_secret_basic.
func call(t *testing.T, s *Server, method, path string, form url.Values, basic, bearer string) response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL()+"/realms/"+realmName+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if id, secret, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(id, secret)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header}
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out.body); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return out
}

func token(t *testing.T, s *Server, form url.Values, basic string) response {
	t.Helper()
	return call(t, s, http.MethodPost, "/protocol/openid-connect/token", form, basic, "")
}

// wantError checks a Keycloak error response.
func wantError(t *testing.T, r response, status int, code, description string) {
	t.Helper()
	if r.status != status || r.str("error") != code || r.str("error_description") != description {
		t.Errorf("response = %d %v; want %d %s %q", r.status, r.body, status, code, description)
	}
}

// decodePart decodes the header (0) or payload (1) of a JWT.
func decodePart(t *testing.T, jwt string, part int) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		t.Fatalf("decode token part %d: %v", part, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("decode token part %d: %v", part, err)
	}
	return out
}
