package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/test/keycloak"
)

// credentialsRealm is the mock Keycloak realm of the S3 credential tests. Its client "ci"
// has a service account whose tokens carry the audience "coffer"; the tokens of "plain"
// do not, so cofferd must refuse them.
const credentialsRealm = "coffer"

// credentialsServer is a cofferd that accepts the tokens of a mock Keycloak.
type credentialsServer struct {
	*server
	kc *keycloak.Server
}

// startCredentialsServer starts a mock Keycloak and a cofferd over plain HTTP that accepts
// its access tokens with the audience "coffer".
func startCredentialsServer(t *testing.T) *credentialsServer {
	t.Helper()
	kc := keycloak.New(keycloak.Options{})
	err := kc.AddRealm(keycloak.RealmConfig{Name: credentialsRealm, Clients: []keycloak.ClientConfig{
		{ClientID: "coffer", Secret: "coffer-secret"},
		{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"}},
		{ClientID: "plain", Secret: "plain-secret", ServiceAccount: true},
	}})
	if err != nil {
		t.Fatalf("add the mock Keycloak realm: %v", err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("start the mock Keycloak: %v", err)
	}
	t.Cleanup(func() { _ = kc.Close() })

	srv := startCofferWith(t, t.TempDir(), "", nil,
		"COFFER_AUTH_OIDC_ISSUER="+kc.Issuer(credentialsRealm), "COFFER_AUTH_OIDC_AUDIENCE=coffer")
	waitS3Ready(t, srv)
	return &credentialsServer{server: srv, kc: kc}
}

// token mints an access token of a client's service account, shifted in time by offset.
func (s *credentialsServer) token(t *testing.T, client string, offset time.Duration) string {
	t.Helper()
	token, err := s.kc.Mint(credentialsRealm, keycloak.MintOptions{Client: client, ClockOffset: offset})
	if err != nil {
		t.Fatalf("mint a token of %s: %v", client, err)
	}
	return token
}

// principal returns the Coffer principal ID of a client's service account.
func (s *credentialsServer) principal(t *testing.T, client string) string {
	t.Helper()
	id, err := s.kc.UserID(credentialsRealm, "service-account-"+client)
	if err != nil {
		t.Fatalf("look up the service account of %s: %v", client, err)
	}
	return s.kc.Issuer(credentialsRealm) + "#" + id
}

// accessKey is an access key as POST /api/v1/access-keys returns it.
type accessKey struct {
	ID     string `json:"access_key_id"`
	Secret string `json:"secret_access_key"`
	Owner  string `json:"owner"`
	Status string `json:"status"`
}

// createAccessKey creates an access key owned by the root user, narrowed by policy when it
// is not empty.
func (s *credentialsServer) createAccessKey(t *testing.T, policy string) accessKey {
	t.Helper()
	body := map[string]any{"description": "e2e"}
	if policy != "" {
		body["policy"] = json.RawMessage(policy)
	}
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatalf("encode the access key request: %v", err)
	}
	status, resp := s.management(t, http.MethodPost, "/api/v1/access-keys", data)
	if status != http.StatusCreated {
		t.Fatalf("POST /api/v1/access-keys returned %d, expected 201\n%s", status, resp)
	}
	var key accessKey
	if err := json.Unmarshal(resp, &key); err != nil {
		t.Fatalf("decode the created access key: %v\n%s", err, resp)
	}
	if len(key.ID) != 20 || len(key.Secret) != 40 || key.Owner != "coffer#root" || key.Status != "active" {
		t.Fatalf("POST /api/v1/access-keys returned %+v, expected an active 20-character key with a 40-character secret owned by coffer#root", key)
	}
	return key
}

// revokeAccessKey revokes a key through the management API.
func (s *credentialsServer) revokeAccessKey(t *testing.T, id string) {
	t.Helper()
	if status, resp := s.management(t, http.MethodDelete, "/api/v1/access-keys/"+id, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE /api/v1/access-keys/%s returned %d, expected 204\n%s", id, status, resp)
	}
}

// management sends a management API request with the root credentials.
func (s *credentialsServer) management(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+s.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	req.SetBasicAuth(rootUser, rootPassword)
	req.Header.Set("Content-Type", "application/json")
	return doRequest(t, s.httpClient(t, time.Minute), req)
}

// sessionCredentials are the temporary credentials of AssumeRoleWithWebIdentity.
type sessionCredentials struct {
	AccessKeyID     string `json:"AccessKeyId" xml:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey" xml:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken" xml:"SessionToken"`
	Expiration      string `json:"Expiration" xml:"Expiration"`
}

// assumeRole calls AssumeRoleWithWebIdentity with the given form parameters added to a
// valid request for token, and returns the status and the XML body.
func (s *credentialsServer) assumeRole(t *testing.T, token string, params map[string]string) (int, []byte) {
	t.Helper()
	form := url.Values{
		"Action":           {"AssumeRoleWithWebIdentity"},
		"Version":          {"2011-06-15"},
		"RoleArn":          {"arn:aws:iam::000000000000:role/ci"},
		"RoleSessionName":  {"e2e"},
		"WebIdentityToken": {token},
	}
	for name, value := range params {
		form.Set(name, value)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.s3Endpoint()+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("build the AssumeRoleWithWebIdentity request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	return doRequest(t, s.httpClient(t, time.Minute), req)
}

// stsErrorCode returns the code of an STS XML error body.
func stsErrorCode(t *testing.T, body []byte) string {
	t.Helper()
	var doc struct {
		Error struct {
			Type string
			Code string
		}
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || doc.Error.Type != "Sender" || doc.RequestID == "" {
		t.Errorf("STS error body is not an ErrorResponse with a Sender error and a RequestId (%v):\n%s", err, body)
	}
	return doc.Error.Code
}

// doRequest sends req and returns the status and the body.
func doRequest(t *testing.T, client *http.Client, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the response to %s %s: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body
}

// credentialsEnv returns awsEnv with other credentials in place of the root user's.
func credentialsEnv(t *testing.T, srv *server, accessKeyID, secret, sessionToken string) []string {
	t.Helper()
	env := envWithout(awsEnv(t, srv, srv.scheme() == "https"), "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
	env = append(env, "AWS_ACCESS_KEY_ID="+accessKeyID, "AWS_SECRET_ACCESS_KEY="+secret)
	if sessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+sessionToken)
	}
	return env
}

// bucketPolicy returns a policy for bucket that allows principal the actions on the bucket
// and its objects.
func bucketPolicy(bucket, principal string, actions ...string) string {
	quoted := make([]string, len(actions))
	for i, a := range actions {
		quoted[i] = strconv.Quote(a)
	}
	return `{"Version": "2012-10-17", "Statement": [{"Sid": "Grant", "Effect": "Allow",
		"Principal": {"AWS": ` + strconv.Quote("user:"+principal) + `},
		"Action": [` + strings.Join(quoted, ", ") + `],
		"Resource": ["arn:aws:s3:::` + bucket + `", "arn:aws:s3:::` + bucket + `/*"]}]}`
}
