package oci_test

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestBaseAndAuthentication(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	challenge := func(extra string) map[string]string {
		return map[string]string{
			"WWW-Authenticate":                `Bearer realm="` + s.url + `/v2/token",service="coffer"` + extra,
			"Docker-Distribution-API-Version": "registry/2.0",
		}
	}
	basic := func(user, password string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
	}
	s.run(t, []exchange{
		{name: "no credentials", method: http.MethodGet, path: "/v2/", header: map[string]string{"Authorization": "-"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge("")},
		{name: "wrong password", method: http.MethodGet, path: "/v2/", header: basic(testUser, "password124"),
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge("")},
		{name: "wrong user", method: http.MethodGet, path: "/v2/", header: basic("root", testPassword),
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge("")},
		{name: "malformed bearer", method: http.MethodGet, path: "/v2/", header: map[string]string{"Authorization": "Bearer abc"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge(`,error="invalid_token"`)},
		{name: "unknown scheme", method: http.MethodGet, path: "/v2/", header: map[string]string{"Authorization": "Digest abc"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge("")},
		{name: "no credentials below /v2/", method: http.MethodGet, path: "/v2/some/repo/tags/list", header: map[string]string{"Authorization": "-"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge(`,scope="repository:some/repo:pull"`)},
		{name: "no credentials on a push", method: http.MethodPost, path: "/v2/some/repo/blobs/uploads/", header: map[string]string{"Authorization": "-"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge(`,scope="repository:some/repo:pull,push"`)},
		{name: "no credentials on a delete", method: http.MethodDelete, path: "/v2/some/repo/manifests/latest", header: map[string]string{"Authorization": "-"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge(`,scope="repository:some/repo:delete"`)},
		{name: "no credentials on the catalog", method: http.MethodGet, path: "/v2/_catalog", header: map[string]string{"Authorization": "-"},
			status: http.StatusUnauthorized, code: "UNAUTHORIZED", want: challenge(`,scope="registry:catalog:*"`)},
		{name: "base", method: http.MethodGet, path: "/v2/", status: http.StatusOK, wantBody: []byte("{}"),
			want: map[string]string{"Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0", "WWW-Authenticate": ""}},
		{name: "base without slash", method: http.MethodGet, path: "/v2", status: http.StatusOK, wantBody: []byte("{}")},
		{name: "base head", method: http.MethodHead, path: "/v2/", status: http.StatusOK, wantBody: []byte{}},
	})
	s.checkNoRepository(t, "some/repo")
}

// TestMethodNotAllowed checks 405 UNSUPPORTED and the Allow header of every
// route. Allow is compared as a set, because RFC 9110 gives its order no
// meaning.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	blob := "/v2/m/r/blobs/" + sha256Digest([]byte("x"))
	cases := []struct {
		method, path string
		allow        []string
	}{
		{http.MethodPut, "/v2/", []string{"GET", "HEAD"}},
		{http.MethodDelete, "/v2/_catalog", []string{"GET"}},
		{http.MethodPost, "/v2/m/r/manifests/latest", []string{"DELETE", "GET", "HEAD", "PUT"}},
		{http.MethodPatch, "/v2/m/r/manifests/latest", []string{"DELETE", "GET", "HEAD", "PUT"}},
		{http.MethodPut, blob, []string{"DELETE", "GET", "HEAD"}},
		{http.MethodGet, "/v2/m/r/blobs/uploads/", []string{"POST"}},
		{http.MethodPost, "/v2/m/r/blobs/uploads/0123", []string{"DELETE", "GET", "PATCH", "PUT"}},
		{http.MethodDelete, "/v2/m/r/tags/list", []string{"GET"}},
		{http.MethodPost, "/v2/m/r/referrers/" + sha256Digest([]byte("x")), []string{"GET"}},
	}
	for _, c := range cases {
		label := c.method + " " + c.path
		resp := s.do(t, c.method, c.path, nil, nil)
		checkStatus(t, label, resp, http.StatusMethodNotAllowed)
		checkErrorCode(t, label, resp, "UNSUPPORTED")
		allow := strings.Split(resp.header.Get("Allow"), ", ")
		slices.Sort(allow)
		if !slices.Equal(allow, c.allow) {
			t.Errorf("%s: Allow = %q, want %q in any order", label, resp.header.Get("Allow"), c.allow)
		}
	}
	s.checkNoRepository(t, "m/r")
}

// TestRepositoryNames checks that an invalid repository name is rejected
// with 400 NAME_INVALID on every route that carries a name, and that a
// path that matches no route is 404 NOT_FOUND. The distribution
// specification defines the name grammar and the NAME_INVALID code, but
// it does not say how to answer a path that fits no endpoint.
func TestRepositoryNames(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	name255 := strings.Repeat("a", 255)
	name300 := strings.Repeat("a", 300)
	config := []byte(`{}`)
	manifest := marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": mediaTypeOCIManifest,
		"config": describe(mediaTypeEmpty, config), "layers": []descriptor{},
	})
	invalid := func(name, method, path string, body []byte) exchange {
		return exchange{name: name, method: method, path: path, body: body,
			header: map[string]string{"Content-Type": mediaTypeOCIManifest},
			status: http.StatusBadRequest, code: "NAME_INVALID"}
	}
	s.run(t, []exchange{
		invalid("dot-dot component", http.MethodPut, "/v2/a/../b/manifests/latest", manifest),
		invalid("encoded dot-dot", http.MethodPut, "/v2/a/%2e%2e/b/manifests/latest", manifest),
		invalid("encoded upper-case dot-dot", http.MethodGet, "/v2/a/%2E%2E/b/tags/list", nil),
		invalid("encoded slash", http.MethodPut, "/v2/a/%2F/b/manifests/latest", manifest),
		invalid("encoded slash inside a component", http.MethodGet, "/v2/a%2Fb/tags/list", nil),
		invalid("dot component", http.MethodGet, "/v2/a/./b/tags/list", nil),
		invalid("upper case", http.MethodPost, "/v2/Upper/blobs/uploads/", nil),
		invalid("300 characters", http.MethodGet, "/v2/"+name300+"/tags/list", nil),
		invalid("256 characters", http.MethodGet, "/v2/"+strings.Repeat("b", 256)+"/tags/list", nil),
		invalid("trailing slash", http.MethodPut, "/v2/repo//manifests/latest", manifest),
		invalid("trailing slash on tags", http.MethodGet, "/v2/repo//tags/list", nil),
		invalid("leading slash", http.MethodGet, "/v2//repo/tags/list", nil),
		invalid("double dot separator", http.MethodGet, "/v2/a..b/tags/list", nil),
		invalid("triple underscore", http.MethodGet, "/v2/a___b/tags/list", nil),
		invalid("leading dash", http.MethodGet, "/v2/-a/tags/list", nil),
		invalid("invalid name on a blob", http.MethodGet, "/v2/A/blobs/"+sha256Digest(config), nil),
		invalid("invalid name on referrers", http.MethodGet, "/v2/A/referrers/"+sha256Digest(config), nil),
		invalid("invalid name on an upload", http.MethodGet, "/v2/A/blobs/uploads/0123", nil),

		{name: "255 characters is valid", method: http.MethodGet, path: "/v2/" + name255 + "/tags/list",
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},
		{name: "double underscore is valid", method: http.MethodGet, path: "/v2/a__b/tags/list",
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},
		{name: "dashes are valid", method: http.MethodGet, path: "/v2/a--b/c.d_e/tags/list",
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},

		{name: "unknown endpoint", method: http.MethodGet, path: "/v2/repo", status: http.StatusNotFound, code: "NOT_FOUND"},
		{name: "trailing slash after the reference", method: http.MethodGet, path: "/v2/repo/manifests/latest/",
			status: http.StatusNotFound, code: "NOT_FOUND"},
		{name: "unknown sub-resource", method: http.MethodGet, path: "/v2/repo/layers/x", status: http.StatusNotFound, code: "NOT_FOUND"},
		{name: "encoded reference", method: http.MethodGet, path: "/v2/repo/manifests/a%2Fb", status: http.StatusNotFound, code: "NOT_FOUND"},
	})
	if names := s.catalog(t); len(names) != 0 {
		t.Errorf("catalog = %q after rejected requests, want it empty", names)
	}
}
