package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/test/keycloak"
)

// infoPolicy lets every authenticated principal read /api/v1/system/info.
const infoPolicy = `COFFER_AUTH_POLICIES=[{"id": "read-info", "effect": "Allow", "principals": ["*"], "actions": ["coffer:system.read"], "resources": ["coffer:system"]}]`

// userToken mints an access token of a realm user, issued to the ci client.
func userToken(t *testing.T, kc *keycloak.Server, user string) string {
	t.Helper()
	token, err := kc.Mint("coffer", keycloak.MintOptions{Client: "ci", Username: user})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// call sends a request with a JSON body and the given authorization, and
// returns the status and the body.
func call(t *testing.T, method, url, authorization, body string) (int, []byte, http.Header) {
	t.Helper()
	req := newRequest(t, method, url, []byte(body))
	req.Header.Set("Authorization", authorization)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of %s %s: %v", method, url, err)
	}
	return resp.StatusCode, data, resp.Header
}

func basic(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth(user, password)
	return req.Header.Get("Authorization")
}

func bearer(token string) string { return "Bearer " + token }

// created is the part of a created credential that the tests read.
type created struct {
	ID       string `json:"id"`
	Owner    string `json:"owner"`
	User     string `json:"user"`
	Secret   string `json:"secret"`
	LastUsed string `json:"last_used"`
}

func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func TestPersonalAccessTokens(t *testing.T) {
	kc, api, _ := startOIDCServer(t, infoPolicy)
	alice := bearer(userToken(t, kc, "alice"))
	aliceID, err := kc.UserID("coffer", "alice")
	if err != nil {
		t.Fatal(err)
	}
	owner := kc.Issuer("coffer") + "#" + aliceID

	status, body, header := call(t, http.MethodPost, api+"/api/v1/tokens", alice, `{"name": "laptop", "expires_in": "24h"}`)
	if status != http.StatusCreated {
		t.Fatalf("create token: %d %s", status, body)
	}
	token := decodeJSON[created](t, body)
	if !strings.HasPrefix(token.Secret, "coffer_pat_"+token.ID+"_") || token.Owner != owner {
		t.Errorf("created token = %+v, want a coffer_pat_ secret owned by %s", token, owner)
	}
	if header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", header.Get("Cache-Control"))
	}

	status, body, _ = call(t, http.MethodGet, api+"/api/v1/system/info", basic("anything", token.Secret), "")
	if status != http.StatusOK {
		t.Errorf("GET with the token: %d %s", status, body)
	}
	status, body, _ = call(t, http.MethodGet, api+"/api/v1/tokens", alice, "")
	if status != http.StatusOK || strings.Contains(string(body), token.Secret) || strings.Contains(string(body), `"secret"`) {
		t.Errorf("list tokens: %d %s, want 200 without secrets", status, body)
	}
	list := decodeJSON[struct{ Items []created }](t, body)
	if len(list.Items) != 1 || list.Items[0].ID != token.ID || list.Items[0].LastUsed == "" {
		t.Errorf("listed tokens = %+v, want one with a last use", list.Items)
	}

	status, body, _ = call(t, http.MethodPost, api+"/api/v1/tokens", basic("alice", token.Secret), `{"name": "from a token"}`)
	if status != http.StatusForbidden {
		t.Errorf("token creates a token: %d %s, want 403", status, body)
	}
	bob := bearer(userToken(t, kc, "bob"))
	status, body, _ = call(t, http.MethodGet, api+"/api/v1/tokens?owner="+owner, bob, "")
	if status != http.StatusForbidden {
		t.Errorf("bob lists alice's tokens: %d %s, want 403", status, body)
	}
	status, body, _ = call(t, http.MethodDelete, api+"/api/v1/tokens/"+token.ID, bob, "")
	if status != http.StatusForbidden {
		t.Errorf("bob revokes alice's token: %d %s, want 403", status, body)
	}

	status, body, _ = call(t, http.MethodDelete, api+"/api/v1/tokens/"+token.ID, alice, "")
	if status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", status, body)
	}
	status, body, header = call(t, http.MethodGet, api+"/api/v1/system/info", basic("anything", token.Secret), "")
	if status != http.StatusUnauthorized || header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET with the revoked token: %d %s, want 401 problem", status, body)
	}
}

func TestTokenScopesNarrow(t *testing.T) {
	kc, api, _ := startOIDCServer(t, infoPolicy)
	alice := bearer(userToken(t, kc, "alice"))
	status, body, _ := call(t, http.MethodPost, api+"/api/v1/tokens", alice,
		`{"name": "pull only", "scopes": [{"actions": ["oci:pull"], "resources": ["repo:**"]}]}`)
	if status != http.StatusCreated {
		t.Fatalf("create token: %d %s", status, body)
	}
	token := decodeJSON[created](t, body)
	status, body, _ = call(t, http.MethodGet, api+"/api/v1/system/info", basic("alice", token.Secret), "")
	if status != http.StatusForbidden || !strings.Contains(string(body), "outside restriction") {
		t.Errorf("GET outside the scopes: %d %s, want 403 outside restriction", status, body)
	}

	invalid := []struct{ name, body, want string }{
		{"unknown action", `{"name": "x", "scopes": [{"actions": ["oci:tag"], "resources": ["*"]}]}`, `unknown action \"oci:tag\"`},
		{"no name", `{"scopes": []}`, "invalid name"},
		{"past expiry", `{"name": "x", "expires_at": "2001-01-01T00:00:00Z"}`, "in the past"},
		{"bad duration", `{"name": "x", "expires_in": "soon"}`, "invalid expires_in"},
		{"both expiries", `{"name": "x", "expires_in": "1h", "expires_at": "2099-01-01T00:00:00Z"}`, "not both"},
		{"unknown field", `{"name": "x", "owner": "someone"}`, "unknown field"},
	}
	for _, c := range invalid {
		status, body, _ := call(t, http.MethodPost, api+"/api/v1/tokens", alice, c.body)
		if status != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("%s: %d %s, want 400 containing %q", c.name, status, body, c.want)
		}
	}
}

func TestRobotAccounts(t *testing.T) {
	api := startServer(t, false).api
	root := basic(testRootUser, testRootPassword)

	status, body, _ := call(t, http.MethodPost, api+"/api/v1/robots", root, `{"name": "ci"}`)
	if status != http.StatusCreated {
		t.Fatalf("create robot: %d %s", status, body)
	}
	robot := decodeJSON[created](t, body)
	if robot.User != "robot$ci" || robot.Owner != "coffer#robot$ci" || !strings.HasPrefix(robot.Secret, "coffer_robot_") {
		t.Errorf("robot = %+v", robot)
	}
	status, body, _ = call(t, http.MethodPost, api+"/api/v1/robots", root, `{"name": "ci"}`)
	if status != http.StatusConflict {
		t.Errorf("second robot ci: %d %s, want 409", status, body)
	}
	status, body, _ = call(t, http.MethodPost, api+"/api/v1/robots", root, `{"name": "CI robot"}`)
	if status != http.StatusBadRequest {
		t.Errorf("invalid robot name: %d %s, want 400", status, body)
	}

	info := api + "/api/v1/system/info"
	if status, body, _ := call(t, http.MethodGet, info, basic("robot$ci", robot.Secret), ""); status != http.StatusForbidden {
		t.Errorf("robot without a policy: %d %s, want 403", status, body)
	}
	policy := `{"statements": [{"id": "ci-info", "effect": "Allow", "principals": ["user:coffer#robot$ci"], "actions": ["coffer:system.read"], "resources": ["coffer:system"]}]}`
	if status, body, _ := call(t, http.MethodPut, api+"/api/v1/policies/robots", root, policy); status != http.StatusCreated {
		t.Fatalf("put policy: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, info, basic("robot$ci", robot.Secret), ""); status != http.StatusOK {
		t.Errorf("robot with a policy: %d %s, want 200", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, info, basic("robot$cd", robot.Secret), ""); status != http.StatusUnauthorized {
		t.Errorf("robot secret with another user: %d %s, want 401", status, body)
	}
	status, body, _ = call(t, http.MethodGet, api+"/api/v1/robots", root, "")
	if list := decodeJSON[struct{ Items []created }](t, body); status != http.StatusOK || len(list.Items) != 1 {
		t.Errorf("list robots: %d %s, want one", status, body)
	}

	if status, body, _ := call(t, http.MethodDelete, api+"/api/v1/robots/ci", root, ""); status != http.StatusNoContent {
		t.Fatalf("delete robot: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, info, basic("robot$ci", robot.Secret), ""); status != http.StatusUnauthorized {
		t.Errorf("deleted robot: %d %s, want 401", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, api+"/api/v1/robots/ci", root, ""); status != http.StatusNotFound {
		t.Errorf("get deleted robot: %d %s, want 404", status, body)
	}
	if status, body, _ := call(t, http.MethodPost, api+"/api/v1/robots", root, `{"name": "ci"}`); status != http.StatusCreated {
		t.Errorf("recreate robot ci: %d %s, want 201", status, body)
	}
}

func TestStoredPolicies(t *testing.T) {
	kc, api, _ := startOIDCServer(t, `COFFER_AUTH_ROLES_REALM_ROLES={"artifact-admin": ["admin"]}`)
	root := basic(testRootUser, testRootPassword)
	bob := bearer(userToken(t, kc, "bob"))

	status, body, _ := call(t, http.MethodPut, api+"/api/v1/policies/team", root,
		`{"statements": [{"id": "a", "effect": "allow", "principals": ["*"], "actions": ["oci:pull"], "resources": ["*"]}]}`)
	if status != http.StatusBadRequest || !strings.Contains(string(body), `statements[0].effect: invalid effect \"allow\"`) {
		t.Errorf("invalid policy: %d %s, want 400 naming the field", status, body)
	}
	admins := `{"description": "admins", "statements": [
		{"id": "admins", "effect": "Allow", "principals": ["role:admin"], "actions": ["*"], "resources": ["*"]},
		{"id": "keep-releases", "effect": "Deny", "principals": ["*"], "actions": ["oci:delete"], "resources": ["repo:releases/**"]}]}`
	if status, body, _ := call(t, http.MethodPut, api+"/api/v1/policies/admins", root, admins); status != http.StatusCreated {
		t.Fatalf("create policy: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodPut, api+"/api/v1/policies/admins", root, admins); status != http.StatusOK {
		t.Errorf("replace policy: %d %s, want 200", status, body)
	}

	alice := bearer(userToken(t, kc, "alice"))
	if status, body, _ := call(t, http.MethodGet, api+"/api/v1/policies/admins", alice, ""); status != http.StatusOK {
		t.Errorf("admin reads the policy: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodPut, api+"/api/v1/policies/mine", bob, `{"statements": []}`); status != http.StatusForbidden {
		t.Errorf("bob writes a policy: %d %s, want 403", status, body)
	}

	status, body, _ = call(t, http.MethodPost, api+"/api/v1/policies/explain", root,
		`{"principal": {"id": "iss#carol", "roles": ["admin"]}, "action": "oci:delete", "resource": "repo:releases/app"}`)
	if status != http.StatusOK {
		t.Fatalf("explain: %d %s", status, body)
	}
	explained := decodeJSON[struct {
		Effect       string
		Reason       string
		StatementIDs []string `json:"statement_ids"`
		Statements   []struct{ ID string }
	}](t, body)
	if explained.Effect != "Deny" || explained.Reason != "explicit deny" || len(explained.StatementIDs) != 1 || explained.StatementIDs[0] != "admins/keep-releases" {
		t.Errorf("explain = %+v, want Deny by admins/keep-releases", explained)
	}
	if len(explained.Statements) != 1 || explained.Statements[0].ID != "admins/keep-releases" {
		t.Errorf("explained statements = %+v", explained.Statements)
	}
	status, body, _ = call(t, http.MethodPost, api+"/api/v1/policies/explain", alice, `{"action": "oci:push", "resource": "repo:team/app"}`)
	if status != http.StatusOK || !strings.Contains(string(body), `"statement_ids":["admins/admins"]`) {
		t.Errorf("explain for the caller: %d %s, want Allow by admins/admins", status, body)
	}
	if status, body, _ := call(t, http.MethodPost, api+"/api/v1/policies/explain", root, `{"action": "oci:push"}`); status != http.StatusBadRequest {
		t.Errorf("explain without resource: %d %s, want 400", status, body)
	}

	if status, body, _ := call(t, http.MethodDelete, api+"/api/v1/policies/admins", root, ""); status != http.StatusNoContent {
		t.Fatalf("delete policy: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, api+"/api/v1/policies/admins", alice, ""); status != http.StatusForbidden {
		t.Errorf("admin after the policy is gone: %d %s, want 403", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, api+"/api/v1/policies/admins", root, ""); status != http.StatusNotFound {
		t.Errorf("deleted policy: %d %s, want 404", status, body)
	}
}

func TestObjectRoutesDecideByKey(t *testing.T) {
	uploads := `COFFER_AUTH_POLICIES=[{"id": "bob-uploads", "effect": "Allow", "principals": ["group:/eng/web"],
		"actions": ["s3:PutObject", "s3:GetObject"], "resources": ["arn:aws:s3:::builds/bob/*"]}]`
	kc, api, _ := startOIDCServer(t, uploads)
	root := basic(testRootUser, testRootPassword)
	bob := bearer(userToken(t, kc, "bob"))
	if status, body, _ := call(t, http.MethodPost, api+"/api/v1/buckets", root, `{"name": "builds"}`); status != http.StatusCreated {
		t.Fatalf("create bucket: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodPost, api+"/api/v1/buckets", bob, `{"name": "other"}`); status != http.StatusForbidden {
		t.Errorf("bob creates a bucket: %d %s, want 403", status, body)
	}

	objects := api + "/api/v1/buckets/builds/objects/"
	if status, body, _ := call(t, http.MethodPut, objects+"bob/a.txt", bob, "hello"); status != http.StatusOK && status != http.StatusCreated {
		t.Errorf("bob puts his object: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, objects+"bob/a.txt", bob, ""); status != http.StatusOK || string(body) != "hello" {
		t.Errorf("bob reads his object: %d %q", status, body)
	}
	if status, body, _ := call(t, http.MethodPut, objects+"alice/a.txt", bob, "hello"); status != http.StatusForbidden {
		t.Errorf("bob puts outside his prefix: %d %s, want 403", status, body)
	}
	if status, body, _ := call(t, http.MethodDelete, objects+"bob/a.txt", bob, ""); status != http.StatusForbidden {
		t.Errorf("bob deletes: %d %s, want 403", status, body)
	}

	status, body, _ := call(t, http.MethodPost, api+"/api/v1/buckets/builds/uploads", bob, `{"key": "bob/big.bin"}`)
	if status != http.StatusCreated {
		t.Fatalf("bob starts an upload: %d %s", status, body)
	}
	session := decodeJSON[struct{ ID string }](t, body)
	if status, body, _ := call(t, http.MethodGet, api+"/api/v1/uploads/"+session.ID, bob, ""); status != http.StatusOK {
		t.Errorf("bob reads his upload: %d %s", status, body)
	}
	if status, body, _ := call(t, http.MethodPost, api+"/api/v1/buckets/builds/uploads", bob, `{"key": "alice/big.bin"}`); status != http.StatusForbidden {
		t.Errorf("bob starts an upload outside his prefix: %d %s, want 403", status, body)
	}

	status, body, _ = call(t, http.MethodPost, api+"/api/v1/buckets/builds/uploads", root, `{"key": "release/big.bin"}`)
	if status != http.StatusCreated {
		t.Fatalf("root starts an upload: %d %s", status, body)
	}
	rootSession := decodeJSON[struct{ ID string }](t, body)
	if status, body, _ := call(t, http.MethodDelete, api+"/api/v1/uploads/"+rootSession.ID, bob, ""); status != http.StatusForbidden {
		t.Errorf("bob cancels root's upload: %d %s, want 403", status, body)
	}
	if status, body, _ := call(t, http.MethodGet, api+"/api/v1/uploads/unknown", bob, ""); status != http.StatusNotFound {
		t.Errorf("unknown upload: %d %s, want 404", status, body)
	}
}
