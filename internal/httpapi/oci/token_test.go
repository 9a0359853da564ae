package oci_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/registrytoken"
)

// tokenBody is the JSON of a token endpoint response.
type tokenBody struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
}

func basicHeader(user, password string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

func bearerHeader(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

// fetchToken requests a token with GET; an empty user requests an anonymous
// one. It fails the test unless the status is 200.
func (s *testServer) fetchToken(t *testing.T, user, password string, scopes ...string) string {
	t.Helper()
	query := url.Values{"service": {"coffer"}, "scope": scopes}
	header := map[string]string{"Authorization": "-"}
	if user != "" {
		header = basicHeader(user, password)
	}
	resp := s.do(t, http.MethodGet, "/v2/token?"+query.Encode(), header, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("token request of %q for %q: status %d, body %s", user, scopes, resp.status, resp.body)
	}
	var body tokenBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("decode token response: %v", err)
	}
	if body.Token == "" || body.Token != body.AccessToken {
		t.Fatalf("token response has token %q and access_token %q, want the same non-empty value", body.Token, body.AccessToken)
	}
	return body.Token
}

// grantedScope requests a token with the OAuth 2 password grant and returns
// the granted scope of the response.
func (s *testServer) grantedScope(t *testing.T, user, password, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}, "service": {"coffer"}, "client_id": {"test"}, "scope": {scope}}
	resp := s.do(t, http.MethodPost, "/v2/token", map[string]string{"Authorization": "-", "Content-Type": "application/x-www-form-urlencoded"}, []byte(form.Encode()))
	if resp.status != http.StatusOK {
		t.Fatalf("password grant of %q for %q: status %d, body %s", user, scope, resp.status, resp.body)
	}
	var body tokenBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("decode token response: %v", err)
	}
	if body.AccessToken == "" || body.TokenType != "Bearer" || body.ExpiresIn != 300 {
		t.Errorf("password grant response: access_token %d bytes, token_type %q, expires_in %d; want a token, Bearer, 300", len(body.AccessToken), body.TokenType, body.ExpiresIn)
	}
	return body.Scope
}

func TestTokenGrantsRequestedAndAllowed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	cases := []struct {
		user, scope, want string
	}{
		{testUser, "repository:team/app:pull,push,delete", "repository:team/app:pull,push,delete"},
		{testUser, "registry:catalog:*", "registry:catalog:*"},
		{"reader", "repository:team/app:pull,push", "repository:team/app:pull"},
		{"reader", "repository:private/app:pull", ""},
		{"reader", "registry:catalog:*", ""},
		{"writer", "repository:team/app:* repository:other/lib:pull,push", "repository:other/lib:pull"},
		{"writer", "repository:team/app:pull,push,delete", "repository:team/app:pull,push"},
		{"writer", "repository:team/app:pull repository:team/app:push", "repository:team/app:pull,push"},
		{"writer", "repository:team/app:tag unknown:x:pull", ""},
	}
	for _, c := range cases {
		if got := s.grantedScope(t, c.user, passwordOf(c.user), c.scope); got != c.want {
			t.Errorf("%s requests %q: granted %q, want %q", c.user, c.scope, got, c.want)
		}
	}
}

// passwordOf returns the password of root or of a test user.
func passwordOf(user string) string {
	if user == testUser {
		return testPassword
	}
	return testUserPasswords[user]
}

func TestTokenEndpointRejects(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	form := func(values url.Values) []byte { return []byte(values.Encode()) }
	formHeader := map[string]string{"Authorization": "-", "Content-Type": "application/x-www-form-urlencoded"}
	cases := []struct {
		name, method, path string
		header             map[string]string
		body               []byte
		status             int
		code               string
	}{
		{"wrong password", http.MethodGet, "/v2/token?service=coffer", basicHeader(testUser, "wrong"), nil, http.StatusUnauthorized, "invalid_grant"},
		{"unknown user", http.MethodGet, "/v2/token?service=coffer", basicHeader("nobody", "x"), nil, http.StatusUnauthorized, "invalid_grant"},
		{"bearer credentials", http.MethodGet, "/v2/token?service=coffer", bearerHeader("abc"), nil, http.StatusUnauthorized, "invalid_client"},
		{"other service", http.MethodGet, "/v2/token?service=elsewhere", basicHeader(testUser, testPassword), nil, http.StatusBadRequest, "invalid_request"},
		{"malformed scope", http.MethodGet, "/v2/token?scope=repository", basicHeader(testUser, testPassword), nil, http.StatusBadRequest, "invalid_scope"},
		{"empty scope action", http.MethodGet, "/v2/token?scope=repository:a:pull,", basicHeader(testUser, testPassword), nil, http.StatusBadRequest, "invalid_scope"},
		{"too many scopes", http.MethodGet, "/v2/token?scope=" + url.QueryEscape(strings.Repeat("repository:a:pull ", 65)), basicHeader(testUser, testPassword), nil, http.StatusBadRequest, "invalid_scope"},
		{"refresh token grant", http.MethodPost, "/v2/token", formHeader, form(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}), http.StatusBadRequest, "unsupported_grant_type"},
		{"wrong password grant", http.MethodPost, "/v2/token", formHeader, form(url.Values{"grant_type": {"password"}, "username": {testUser}, "password": {"wrong"}}), http.StatusUnauthorized, "invalid_grant"},
		{"form too large", http.MethodPost, "/v2/token", formHeader, form(url.Values{"grant_type": {"password"}, "x": {strings.Repeat("a", 70<<10)}}), http.StatusBadRequest, "invalid_request"},
	}
	for _, c := range cases {
		resp := s.do(t, c.method, c.path, c.header, c.body)
		if resp.status != c.status {
			t.Errorf("%s: status %d, want %d (body %s)", c.name, resp.status, c.status, resp.body)
			continue
		}
		var body tokenBody
		if err := json.Unmarshal(resp.body, &body); err != nil || body.Error != c.code {
			t.Errorf("%s: error %q (%v), want %q", c.name, body.Error, err, c.code)
		}
		if body.AccessToken != "" {
			t.Errorf("%s: the response carries a token", c.name)
		}
	}
	if resp := s.do(t, http.MethodDelete, "/v2/token", nil, nil); resp.status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /v2/token: status %d, want 405", resp.status)
	}
}

func TestTokenPushAndPull(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("pushed with a registry token")
	d := sha256Digest(data)
	token := s.fetchToken(t, "writer", passwordOf("writer"), "repository:team/app:pull,push")

	s.run(t, []exchange{
		{name: "base with the token", method: http.MethodGet, path: "/v2/", header: bearerHeader(token), status: http.StatusOK},
		{name: "push", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/?digest=" + d, header: bearerHeader(token), body: data,
			status: http.StatusCreated},
		{name: "pull", method: http.MethodGet, path: "/v2/team/app/blobs/" + d, header: bearerHeader(token), status: http.StatusOK, wantBody: data},
		{name: "another repository", method: http.MethodGet, path: "/v2/team/other/blobs/" + d, header: bearerHeader(token),
			status: http.StatusUnauthorized, code: "UNAUTHORIZED",
			want: map[string]string{"WWW-Authenticate": `Bearer realm="` + s.url + `/v2/token",service="coffer",scope="repository:team/other:pull",error="insufficient_scope"`}},
		{name: "delete outside the policy", method: http.MethodDelete, path: "/v2/team/app/blobs/" + d, header: bearerHeader(token),
			status: http.StatusForbidden, code: "DENIED"},
	})

	record := s.audit.last()
	if principal, method, credential := record.Identity(); principal != "coffer#writer" || method != registrytoken.Method || credential != "password-writer" {
		t.Errorf("audit identity of the delete = %q %q %q, want coffer#writer %s password-writer", principal, method, credential, registrytoken.Method)
	}
	want := []audit.Decision{{Action: authz.ActionOCIDelete, Resource: "repo:team/app", Effect: "Deny", Reason: string(authz.ReasonNoMatch)}}
	if got := record.Decisions(); !slices.EqualFunc(got, want, decisionEqual) {
		t.Errorf("audit decisions of the delete = %+v, want %+v", got, want)
	}
}

func decisionEqual(a, b audit.Decision) bool {
	return a.Action == b.Action && a.Resource == b.Resource && a.Effect == b.Effect && a.Reason == b.Reason && slices.Equal(a.StatementIDs, b.StatementIDs)
}

func TestTokenPullOnlyRejectsPush(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("a reader cannot push this")
	d := sha256Digest(data)
	// The reader asks for push too, but the token grants pull only.
	token := s.fetchToken(t, "reader", passwordOf("reader"), "repository:team/app:pull,push")
	s.run(t, []exchange{
		{name: "push start", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/", header: bearerHeader(token),
			status: http.StatusForbidden, code: "DENIED"},
		{name: "monolithic push", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/?digest=" + d, header: bearerHeader(token), body: data,
			status: http.StatusForbidden, code: "DENIED"},
		{name: "manifest push", method: http.MethodPut, path: "/v2/team/app/manifests/latest", header: bearerHeader(token), body: []byte("{}"),
			status: http.StatusForbidden, code: "DENIED"},
		{name: "pull is allowed", method: http.MethodGet, path: "/v2/team/app/tags/list", header: bearerHeader(token),
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},
		{name: "basic push", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/", header: basicHeader("reader", passwordOf("reader")),
			status: http.StatusForbidden, code: "DENIED"},
	})
	s.checkNoRepository(t, "team/app")
}

func TestTokenNarrowerThanPolicy(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	token := s.fetchToken(t, "writer", passwordOf("writer"), "repository:team/app:pull")
	s.run(t, []exchange{
		{name: "push with a pull token", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/", header: bearerHeader(token),
			status: http.StatusUnauthorized, code: "UNAUTHORIZED",
			want: map[string]string{"WWW-Authenticate": `Bearer realm="` + s.url + `/v2/token",service="coffer",scope="repository:team/app:pull,push",error="insufficient_scope"`}},
	})
	s.checkNoRepository(t, "team/app")
}

func TestTokenAnonymous(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	token := s.fetchToken(t, "", "", "repository:team/app:pull")
	s.run(t, []exchange{
		{name: "base", method: http.MethodGet, path: "/v2/", header: bearerHeader(token), status: http.StatusOK},
		{name: "pull without a policy", method: http.MethodGet, path: "/v2/team/app/tags/list", header: bearerHeader(token),
			status: http.StatusUnauthorized, code: "UNAUTHORIZED",
			want: map[string]string{"WWW-Authenticate": `Bearer realm="` + s.url + `/v2/token",service="coffer",scope="repository:team/app:pull",error="insufficient_scope"`}},
	})
}

func TestTokenRejectedOnV2(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	valid := s.fetchToken(t, testUser, testPassword, "repository:team/app:pull")
	parts := strings.Split(valid, ".")

	otherKeys, err := registrytoken.DeriveKeys([]byte("another deployment"), 0)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := registrytoken.NewService(otherKeys, "coffer").Issue(identity.Root("basic"), []authz.Scope{{Type: "repository", Name: "team/app", Actions: []string{"pull"}}})
	if err != nil {
		t.Fatal(err)
	}
	otherService, err := registrytoken.NewService(testKeys(), "elsewhere").Issue(identity.Root("basic"), nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.Replace(string(payload), `"actions":["pull"]`, `"actions":["pull","push"]`, 1)
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"coffer-registry-1"}`))

	cases := map[string]string{
		"foreign key":         foreign.Value,
		"other service":       otherService.Value,
		"widened access":      parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(widened)) + "." + parts[2],
		"alg none":            noneHeader + "." + parts[1] + ".",
		"signature removed":   parts[0] + "." + parts[1] + ".",
		"old key period":      strings.Replace(valid, parts[0], base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT","kid":"coffer-registry-1"}`)), 1),
		"two parts":           parts[0] + "." + parts[1],
		"garbage":             "not-a-token",
		"empty":               "",
		"bad base64 header":   "!!!." + parts[1] + "." + parts[2],
		"registry token kid":  base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"coffer-registry-x"}`)) + "." + parts[1] + "." + parts[2],
		"leading zero period": base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"coffer-registry-0`+strings.TrimPrefix(kidOf(t, parts[0]), "coffer-registry-")+`"}`)) + "." + parts[1] + "." + parts[2],
	}
	for name, token := range cases {
		resp := s.do(t, http.MethodGet, "/v2/team/app/tags/list", bearerHeader(token), nil)
		if resp.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401 (body %s)", name, resp.status, resp.body)
			continue
		}
		if got := resp.header.Get("WWW-Authenticate"); !strings.HasSuffix(got, `error="invalid_token"`) {
			t.Errorf("%s: WWW-Authenticate %q, want error=\"invalid_token\"", name, got)
		}
	}
	if resp := s.do(t, http.MethodGet, "/v2/team/app/tags/list", bearerHeader(valid), nil); resp.status != http.StatusNotFound {
		t.Errorf("the valid token: status %d, want 404 NAME_UNKNOWN (body %s)", resp.status, resp.body)
	}
}

func kidOf(t *testing.T, headerSegment string) string {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(headerSegment)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		KeyID string `json:"kid"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		t.Fatal(err)
	}
	return h.KeyID
}

func TestTokenCrossRepositoryMount(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("mounted only with pull rights on the source")
	d := sha256Digest(data)
	for _, repo := range []string{"private/src", "other/src"} {
		if resp := s.do(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d, nil, data); resp.status != http.StatusCreated {
			t.Fatalf("root push to %s: status %d", repo, resp.status)
		}
	}
	token := s.fetchToken(t, "writer", passwordOf("writer"), "repository:team/app:pull,push", "repository:private/src:pull", "repository:other/src:pull")
	s.run(t, []exchange{
		{name: "mount without pull on the source", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/?mount=" + d + "&from=private/src",
			header: bearerHeader(token), status: http.StatusAccepted, want: map[string]string{"Location": "/v2/team/app/blobs/uploads/*"}},
		{name: "mount without from", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/?mount=" + d,
			header: bearerHeader(token), status: http.StatusAccepted, want: map[string]string{"Location": "/v2/team/app/blobs/uploads/*"}},
		{name: "not mounted", method: http.MethodHead, path: "/v2/team/app/blobs/" + d, header: bearerHeader(token), status: http.StatusNotFound},
		{name: "mount with pull on the source", method: http.MethodPost, path: "/v2/team/app/blobs/uploads/?mount=" + d + "&from=other/src",
			header: bearerHeader(token), status: http.StatusCreated, want: map[string]string{"Location": "/v2/team/app/blobs/" + d}},
	})
}

func TestTokenRepositoryNames(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	token := s.fetchToken(t, "writer", passwordOf("writer"), "repository:team/app:pull,push")
	for _, path := range []string{
		"/v2/team/../app/tags/list",
		"/v2/team/%2e%2e/app/tags/list",
		"/v2/team%2Fapp/tags/list",
		"/v2/Team/App/tags/list",
		"/v2/team/app%2F/blobs/uploads/",
	} {
		for _, header := range []map[string]string{bearerHeader(token), basicHeader("writer", passwordOf("writer"))} {
			resp := s.do(t, http.MethodGet, path, header, nil)
			checkStatus(t, path, resp, http.StatusBadRequest)
			checkErrorCode(t, path, resp, "NAME_INVALID")
		}
	}
}
