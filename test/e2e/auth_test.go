package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestRegistryBasicAuth checks the /v2/ challenge and that clients without the root
// credentials are rejected. The challenge sends clients to the token endpoint.
func TestRegistryBasicAuth(t *testing.T) {
	srv := startCoffer(t)

	resp, _ := srv.get(t, "/v2/", "", false)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v2/ without credentials returned %d, expected 401", resp.StatusCode)
	}
	if got, want := resp.Header.Get("WWW-Authenticate"), `Bearer realm="http://`+srv.addr+`/v2/token",service="coffer"`; got != want {
		t.Errorf("GET /v2/ without credentials: WWW-Authenticate = %q, expected %q", got, want)
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+srv.addr+"/v2/", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.SetBasicAuth(rootUser, rootPassword+"-wrong")
	wrong, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v2/ with a wrong password: %v", err)
	}
	wrong.Body.Close()
	if wrong.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v2/ with a wrong password returned %d, expected 401", wrong.StatusCode)
	}

	resp, _ = srv.get(t, "/v2/", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ with the root credentials returned %d, expected 200", resp.StatusCode)
	}

	// A client with no stored credentials is rejected. crane prints the error code from a
	// JSON error body, or the status when the body has none.
	tb := newToolbox(t, srv)
	stderr := tb.mustFail("crane", "ls", "--insecure", srv.ref("e2e/auth"))
	if !strings.Contains(stderr, "UNAUTHORIZED") && !strings.Contains(stderr, "401") {
		t.Errorf("crane ls without credentials failed, but not with UNAUTHORIZED or 401:\n%s", stderr)
	}
}
