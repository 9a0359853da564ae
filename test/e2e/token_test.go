package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/test/keycloak"
)

// oauthUser is the user name that CI jobs send with an access token as the password; Coffer
// ignores it, as GCR does with oauth2accesstoken.
const oauthUser = "oauth2"

// startKeycloakRegistry starts a mock Keycloak and a cofferd that accepts its tokens. The
// service account of the client ci has the client role pusher on coffer, which Coffer maps
// to its role ci, and a policy lets that role pull and push below ci/.
func startKeycloakRegistry(t *testing.T) (*keycloak.Server, *server) {
	t.Helper()
	kc := keycloak.New(keycloak.Options{})
	err := kc.AddRealm(keycloak.RealmConfig{
		Name:                "coffer",
		AccessTokenLifespan: 900,
		Clients: []keycloak.ClientConfig{
			{ClientID: "coffer", Secret: "coffer-secret", Roles: []string{"pusher"}},
			{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"},
				ServiceAccountClientRoles: map[string][]string{"coffer": {"pusher"}}},
		},
	})
	if err != nil {
		t.Fatalf("add realm: %v", err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start mock Keycloak: %v", err)
	}
	t.Cleanup(func() { _ = kc.Close() })

	policies := `[{"id":"ci-push","effect":"Allow","principals":["role:ci"],"actions":["oci:pull","oci:push"],"resources":["repo:ci/**"]}]`
	srv := startCofferWith(t, t.TempDir(), "", nil,
		"COFFER_AUTH_OIDC_ISSUER="+kc.Issuer("coffer"),
		"COFFER_AUTH_OIDC_AUDIENCE=coffer",
		"COFFER_AUTH_ROLES_CLIENT=coffer",
		`COFFER_AUTH_ROLES_CLIENT_ROLES={"pusher":["ci"]}`,
		"COFFER_AUTH_POLICIES="+policies,
	)
	return kc, srv
}

// clientCredentialsToken requests an access token from the mock Keycloak's token endpoint
// with the client_credentials grant, as a CI job does.
func clientCredentialsToken(t *testing.T, kc *keycloak.Server, clientID, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	resp, err := http.PostForm(kc.Issuer("coffer")+"/protocol/openid-connect/token", form)
	if err != nil {
		t.Fatalf("client_credentials grant: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		t.Fatalf("client_credentials grant: status %d, error %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// TestClientsPushPullWithKeycloakToken logs crane, oras, regctl and skopeo in with a
// client-credentials token as the password. Each pushes and pulls through the registry token
// flow: the /v2/ challenge, a token from /v2/token, then requests with the registry token.
func TestClientsPushPullWithKeycloakToken(t *testing.T) {
	kc, srv := startKeycloakRegistry(t)
	token := clientCredentialsToken(t, kc, "ci", "ci-secret")
	tb := newToolbox(t, srv)
	pushPullWithEveryClient(t, tb, srv, oauthUser, token, "ci")

	// The policy allows nothing outside ci/, so a push there is refused: crane's first
	// request, a HEAD of the layer blob, gets 403 (without a body, as for every HEAD).
	layerPath := writeFile(t, t.TempDir(), "layer.tar", layerTar(t, map[string][]byte{"file.txt": []byte("denied")}))
	stderr := tb.mustFail("crane", "append", "--insecure", "--oci-empty-base", "--new_layer", layerPath, "--new_tag", srv.ref("other/app:v1"))
	if !strings.Contains(stderr, "403 Forbidden") {
		t.Errorf("crane push outside the policy failed, but not with 403 Forbidden:\n%s", stderr)
	}

	// Every client fetched registry tokens as the service account.
	subject, err := kc.UserID("coffer", "service-account-ci")
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(srv.logPath)
	if err != nil {
		t.Fatalf("read cofferd log: %v", err)
	}
	principal := "principal=" + kc.Issuer("coffer") + "#" + subject
	tokenRequests := 0
	for line := range strings.Lines(string(log)) {
		if strings.Contains(line, "path=/v2/token") && strings.Contains(line, "status=200") && strings.Contains(line, principal) {
			tokenRequests++
		}
	}
	if tokenRequests < 4 {
		t.Errorf("the log has %d successful token requests by %s, want at least one per client", tokenRequests, principal)
	}
}

// TestClientsLoginWithWrongPassword checks that a login with a wrong password fails with
// each client, although the same server accepts a valid token.
func TestClientsLoginWithWrongPassword(t *testing.T) {
	kc, srv := startKeycloakRegistry(t)
	tb := newToolbox(t, srv)
	wrongPasswords := map[string]string{
		"root user":           rootPassword + "-wrong",
		"forged access token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
	}
	// regctl checks the stored credentials when the registry is set, so it is set first.
	tb.run("regctl", "registry", "set", srv.addr, "--tls", "disabled")
	for name, password := range wrongPasswords {
		user := oauthUser
		if name == "root user" {
			user = rootUser
		}
		tb.mustFailWith(invocation{name: "oras", args: []string{"login", "--plain-http", "--username", user, "--password-stdin", srv.addr}, stdin: password})
		tb.mustFailWith(invocation{name: "regctl", args: []string{"registry", "login", srv.addr, "--user", user, "--pass-stdin"}, stdin: password})
		tb.mustFailWith(invocation{name: "skopeo", args: []string{"login", "--tls-verify=false", "--username", user, "--password-stdin", srv.addr}, stdin: password})
		// crane auth login only stores the credentials; the first request checks them.
		tb.must(invocation{name: "crane", args: []string{"auth", "login", srv.addr, "--username", user, "--password-stdin"}, stdin: password})
		stderr := tb.mustFail("crane", "ls", "--insecure", srv.ref("ci/app"))
		if !strings.Contains(stderr, "401") && !strings.Contains(stderr, "UNAUTHORIZED") && !strings.Contains(stderr, "invalid_grant") {
			t.Errorf("%s: crane ls failed, but not with 401:\n%s", name, stderr)
		}
	}

	token := clientCredentialsToken(t, kc, "ci", "ci-secret")
	tb.must(invocation{name: "oras", args: []string{"login", "--plain-http", "--username", oauthUser, "--password-stdin", srv.addr}, stdin: token})
	tb.must(invocation{name: "skopeo", args: []string{"login", "--tls-verify=false", "--username", oauthUser, "--password-stdin", srv.addr}, stdin: token})
}

// pushPullWithEveryClient logs crane, oras, regctl and skopeo in as user with password and
// has each push and pull below the repository prefix through the registry token flow: crane
// pushes an image, oras a file, regctl copies the image (mounting its blobs) and skopeo copies
// it to a folder and back. It returns the manifest crane pushed.
func pushPullWithEveryClient(t *testing.T, tb *toolbox, srv *server, user, password, prefix string) []byte {
	t.Helper()

	// crane: push an image, read the manifest back.
	tb.must(invocation{name: "crane", args: []string{"auth", "login", srv.addr, "--username", user, "--password-stdin"}, stdin: password})
	craneRef := srv.ref(prefix + "/crane:v1")
	digest, _, _ := pushRandomImage(t, tb, craneRef)
	rawManifest := tb.run("crane", "manifest", "--insecure", craneRef)
	if got := sha256Digest(rawManifest); got != digest {
		t.Fatalf("crane manifest %s hashes to %s, crane pushed %s", craneRef, got, digest)
	}

	// oras: push a file and pull it back.
	tb.must(invocation{name: "oras", args: []string{"login", "--plain-http", "--username", user, "--password-stdin", srv.addr}, stdin: password})
	workDir := t.TempDir()
	content := randomBytes(t, 64<<10)
	writeFile(t, workDir, "data.bin", content)
	orasRef := srv.ref(prefix + "/oras:v1")
	tb.must(invocation{dir: workDir, name: "oras", args: []string{"push", "--plain-http", "--no-tty", orasRef, "data.bin"}})
	pullDir := t.TempDir()
	tb.run("oras", "pull", "--plain-http", "--no-tty", "--output", pullDir, orasRef)
	if got := readFile(t, filepath.Join(pullDir, "data.bin")); !bytes.Equal(got, content) {
		t.Errorf("oras pulled %d bytes, pushed %d", len(got), len(content))
	}

	// regctl: copy the crane image to another repository, which mounts its blobs.
	tb.run("regctl", "registry", "set", srv.addr, "--tls", "disabled")
	tb.must(invocation{name: "regctl", args: []string{"registry", "login", srv.addr, "--user", user, "--pass-stdin"}, stdin: password})
	regctlRef := srv.ref(prefix + "/regctl:v1")
	tb.run("regctl", "image", "copy", craneRef, regctlRef)
	if got := tb.run("regctl", "manifest", "get", "--format", "raw-body", regctlRef); !bytes.Equal(got, rawManifest) {
		t.Errorf("regctl manifest get %s differs from the manifest crane pushed", regctlRef)
	}

	// skopeo: registry to folder and back to another repository.
	creds := user + ":" + password
	imageDir := filepath.Join(t.TempDir(), "image")
	tb.run("skopeo", "--insecure-policy", "copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", creds,
		"docker://"+regctlRef, "dir:"+imageDir)
	skopeoRef := srv.ref(prefix + "/skopeo:v1")
	tb.run("skopeo", "--insecure-policy", "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", creds,
		"dir:"+imageDir, "docker://"+skopeoRef)
	if got := tb.run("skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds, "docker://"+skopeoRef); !bytes.Equal(got, rawManifest) {
		t.Errorf("skopeo inspect --raw %s differs from the manifest crane pushed", skopeoRef)
	}
	return rawManifest
}
