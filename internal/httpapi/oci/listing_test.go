package oci_test

import (
	"net/http"
	"testing"
)

func TestTagList(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	img := s.pushImage(t, "list/app", "tags")
	s.pushManifest(t, "list/app", img.digest+"?tag=d&tag=b&tag=a&tag=c", mediaTypeOCIManifest, img.manifest)
	other := s.pushImage(t, "list/untagged", "untagged")
	s.pushManifest(t, "list/untagged", other.digest, mediaTypeOCIManifest, other.manifest)

	page := func(name, query, body, link string) exchange {
		return exchange{name: name, method: http.MethodGet, path: "/v2/list/app/tags/list" + query,
			status: http.StatusOK, wantBody: []byte(body),
			want: map[string]string{"Content-Type": "application/json", "Link": link}}
	}
	s.run(t, []exchange{
		page("all", "", `{"name":"list/app","tags":["a","b","c","d"]}`, ""),
		page("first page", "?n=2", `{"name":"list/app","tags":["a","b"]}`,
			`</v2/list/app/tags/list?last=b&n=2>; rel="next"`),
		page("last page", "?n=2&last=b", `{"name":"list/app","tags":["c","d"]}`, ""),
		page("middle page", "?n=1&last=b", `{"name":"list/app","tags":["c"]}`,
			`</v2/list/app/tags/list?last=c&n=1>; rel="next"`),
		page("n equals the count", "?n=4", `{"name":"list/app","tags":["a","b","c","d"]}`, ""),
		page("n above the count", "?n=100", `{"name":"list/app","tags":["a","b","c","d"]}`, ""),
		page("last without n", "?last=c", `{"name":"list/app","tags":["d"]}`, ""),
		page("last after every tag", "?last=z", `{"name":"list/app","tags":[]}`, ""),
		page("last between tags", "?n=1&last=bb", `{"name":"list/app","tags":["c"]}`,
			`</v2/list/app/tags/list?last=c&n=1>; rel="next"`),
		page("n is zero", "?n=0", `{"name":"list/app","tags":[]}`, ""),

		{name: "negative n", method: http.MethodGet, path: "/v2/list/app/tags/list?n=-1",
			status: http.StatusBadRequest, code: "PAGINATION_NUMBER_INVALID"},
		{name: "n not a number", method: http.MethodGet, path: "/v2/list/app/tags/list?n=ten",
			status: http.StatusBadRequest, code: "PAGINATION_NUMBER_INVALID"},
		{name: "repository without tags", method: http.MethodGet, path: "/v2/list/untagged/tags/list",
			status: http.StatusOK, wantBody: []byte(`{"name":"list/untagged","tags":[]}`)},
		{name: "unknown repository", method: http.MethodGet, path: "/v2/list/none/tags/list",
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},
		// The repository's existence does not depend on the page size.
		{name: "unknown repository with n=0", method: http.MethodGet, path: "/v2/list/none/tags/list?n=0",
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},
	})
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.run(t, []exchange{
		{name: "empty registry", method: http.MethodGet, path: "/v2/_catalog", status: http.StatusOK,
			wantBody: []byte(`{"repositories":[]}`), want: map[string]string{"Content-Type": "application/json", "Link": ""}},
	})
	for _, repo := range []string{"cat/b", "cat/a", "cat/c/deep", "other"} {
		s.pushBlob(t, repo, []byte("content of "+repo))
	}
	page := func(name, query, body, link string) exchange {
		return exchange{name: name, method: http.MethodGet, path: "/v2/_catalog" + query, status: http.StatusOK,
			wantBody: []byte(body), want: map[string]string{"Link": link}}
	}
	s.run(t, []exchange{
		page("all", "", `{"repositories":["cat/a","cat/b","cat/c/deep","other"]}`, ""),
		page("first page", "?n=2", `{"repositories":["cat/a","cat/b"]}`, `</v2/_catalog?last=cat%2Fb&n=2>; rel="next"`),
		page("next page", "?n=2&last=cat%2Fb", `{"repositories":["cat/c/deep","other"]}`, ""),
		page("unescaped last", "?n=1&last=cat/b", `{"repositories":["cat/c/deep"]}`,
			`</v2/_catalog?last=cat%2Fc%2Fdeep&n=1>; rel="next"`),
		page("n is zero", "?n=0", `{"repositories":[]}`, ""),
		page("last after every name", "?last=zzz", `{"repositories":[]}`, ""),
		{name: "negative n", method: http.MethodGet, path: "/v2/_catalog?n=-5",
			status: http.StatusBadRequest, code: "PAGINATION_NUMBER_INVALID"},
		{name: "n with a fraction", method: http.MethodGet, path: "/v2/_catalog?n=1.5",
			status: http.StatusBadRequest, code: "PAGINATION_NUMBER_INVALID"},
	})
}
