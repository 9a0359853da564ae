package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rootAPI sends a management API request as the root user and decodes the JSON response
// into out, failing the test unless the status is want.
func rootAPI(t *testing.T, srv *server, method, path, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+srv.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(rootUser, rootPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// TestClientsPushPullWithTokenAndRobot has crane, oras, regctl and skopeo push and pull with
// a personal access token as the password, and with a robot account's secret, through the
// registry token flow. Each credential works only where its scopes or policy allow, and a
// revoked token fails the next login.
func TestClientsPushPullWithTokenAndRobot(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)

	var pat struct {
		ID     string `json:"id"`
		Secret string `json:"secret"`
	}
	rootAPI(t, srv, http.MethodPost, "/api/v1/tokens",
		`{"name": "laptop", "expires_in": "1h", "scopes": [{"actions": ["oci:pull", "oci:push"], "resources": ["repo:pat/**"]}]}`,
		http.StatusCreated, &pat)
	if !strings.HasPrefix(pat.Secret, "coffer_pat_") {
		t.Fatalf("token secret %q does not start with coffer_pat_", pat.Secret)
	}
	pushPullWithEveryClient(t, tb, srv, "anyone", pat.Secret, "pat")

	// The token's scope ends at pat/: a push elsewhere is refused, although its owner is root.
	// The registry responds 401 insufficient_scope, because the registry token the client got
	// for other/app grants nothing.
	layerPath := writeFile(t, t.TempDir(), "layer.tar", layerTar(t, map[string][]byte{"file.txt": []byte("outside")}))
	tb.must(invocation{name: "crane", args: []string{"auth", "login", srv.addr, "--username", "anyone", "--password-stdin"}, stdin: pat.Secret})
	stderr := tb.mustFail("crane", "append", "--insecure", "--oci-empty-base", "--new_layer", layerPath, "--new_tag", srv.ref("other/app:v1"))
	if !strings.Contains(stderr, "401 Unauthorized") {
		t.Errorf("crane push outside the token's scope failed, but not with 401:\n%s", stderr)
	}

	var robot struct {
		Secret string `json:"secret"`
	}
	rootAPI(t, srv, http.MethodPost, "/api/v1/robots", `{"name": "builder"}`, http.StatusCreated, &robot)
	rootAPI(t, srv, http.MethodPut, "/api/v1/policies/builder",
		`{"statements": [{"id": "push", "effect": "Allow", "principals": ["user:coffer#robot$builder"], "actions": ["oci:pull", "oci:push"], "resources": ["repo:robot/**"]}]}`,
		http.StatusCreated, nil)
	rawManifest := pushPullWithEveryClient(t, tb, srv, "robot$builder", robot.Secret, "robot")

	// The robot may pull what it pushed with the token flow, and nothing under pat/.
	if got := tb.run("crane", "manifest", "--insecure", srv.ref("robot/crane:v1")); !bytes.Equal(got, rawManifest) {
		t.Errorf("robot pull of robot/crane:v1 differs from its push")
	}
	if stderr := tb.mustFail("crane", "manifest", "--insecure", srv.ref("pat/crane:v1")); !strings.Contains(stderr, "401") && !strings.Contains(stderr, "403") && !strings.Contains(stderr, "DENIED") && !strings.Contains(stderr, "UNAUTHORIZED") {
		t.Errorf("robot pull outside its policy failed, but not with 401 or 403:\n%s", stderr)
	}

	// Revocation applies to the next login.
	rootAPI(t, srv, http.MethodDelete, "/api/v1/tokens/"+pat.ID, "", http.StatusNoContent, nil)
	tb.mustFailWith(invocation{name: "oras", args: []string{"login", "--plain-http", "--username", "anyone", "--password-stdin", srv.addr}, stdin: pat.Secret})
}
