package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestURIEncode(t *testing.T) {
	cases := map[string]string{
		"":                         "",
		"AZaz09-_.~":               "AZaz09-_.~",
		"a b/c":                    "a%20b%2Fc",
		"!*'();:@&=+$,?#[]%":       "%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%3F%23%5B%5D%25",
		"é€":                       "%C3%A9%E2%82%AC",
		"\x00\x7f\xff":             "%00%7F%FF",
		"already%20encoded stays!": "already%2520encoded%20stays%21",
	}
	for in, want := range cases {
		if got := uriEncode(in); got != want {
			t.Errorf("uriEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	cases := map[string]string{
		"":                       "/",
		"/":                      "/",
		"/bucket":                "/bucket",
		"/bucket/":               "/bucket/",
		"/bucket/a%2Fb/c%20d":    "/bucket/a%2Fb/c%20d",
		"/bucket/a+b":            "/bucket/a%2Bb",
		"/bucket/%7e%41":         "/bucket/~A",
		"/bucket/a//b/../c/./d":  "/bucket/a//b/../c/./d",
		"/bucket/%e2%82%ac":      "/bucket/%E2%82%AC",
		"/bucket/it's (1).txt":   "/bucket/it%27s%20%281%29.txt",
		"/bucket/bad%zzescape":   "/bucket/bad%25zzescape",
		"/bucket/trailing%2F%2F": "/bucket/trailing%2F%2F",
	}
	for in, want := range cases {
		if got := canonicalURI(in); got != want {
			t.Errorf("canonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct {
		raw  string
		skip []string
		want string
	}{
		{raw: "", want: ""},
		{raw: "b=2&a=1&a=0&c", want: "a=0&a=1&b=2&c="},
		{raw: "prefix=a+b&delimiter=%2f", want: "delimiter=%2F&prefix=a%20b"},
		{raw: "x=%7E&y=~", want: "x=~&y=~"},
		{raw: "uploads", want: "uploads="},
		{raw: "&&a=1&&", want: "a=1"},
		{raw: "=v", want: "=v"},
		{raw: "k=a=b", want: "k=a%3Db"},
		{raw: "bad=%zz", want: "bad=%25zz"},
		{raw: "X-Amz-Signature=abc&X-Amz-Date=1&x-id=GetObject", skip: []string{"X-Amz-Signature"}, want: "X-Amz-Date=1&x-id=GetObject"},
		// Sorting is by byte value of the encoded name: uppercase first.
		{raw: "a=1&B=2&_=3&%41=4", want: "A=4&B=2&_=3&a=1"},
	}
	for _, c := range cases {
		if got := canonicalQuery(c.raw, c.skip...); got != c.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestCollapseSpaces(t *testing.T) {
	cases := map[string]string{
		"":                  "",
		"  a  ":             "a",
		"a   b    c":        "a b c",
		"\ta\t":             "a",
		"already one space": "already one space",
	}
	for in, want := range cases {
		if got := collapseSpaces(in); got != want {
			t.Errorf("collapseSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCanonicalHeadersSources(t *testing.T) {
	req, _ := http.NewRequest("PUT", "http://example.com:9000/b/k", strings.NewReader("12345"))
	req.Host = "bucket.example.com:9000"
	req.Header["X-Amz-Meta-List"] = []string{"  one ", "two  three"}
	req.TransferEncoding = []string{"chunked"}
	block, missing := canonicalHeaders(req, []string{"content-length", "host", "transfer-encoding", "x-amz-meta-list"})
	if missing != "" {
		t.Fatalf("missing %q", missing)
	}
	want := "content-length:5\nhost:bucket.example.com:9000\ntransfer-encoding:chunked\nx-amz-meta-list:one,two three\n"
	if block != want {
		t.Errorf("canonicalHeaders = %q, want %q", block, want)
	}
	if _, missing := canonicalHeaders(req, []string{"host", "x-amz-absent"}); missing != "x-amz-absent" {
		t.Errorf("missing = %q, want x-amz-absent", missing)
	}
}

func TestParseCredential(t *testing.T) {
	c, ok := parseCredential("AKID/20260115/us-east-1/s3/aws4_request")
	if !ok || c.accessKey != "AKID" || c.scope() != "20260115/us-east-1/s3/aws4_request" {
		t.Errorf("parseCredential = %+v, %v", c, ok)
	}
	for _, bad := range []string{"", "AKID", "/20260115/us-east-1/s3/aws4_request", "AKID/20260115/us-east-1/s3/aws4_request/extra"} {
		if _, ok := parseCredential(bad); ok {
			t.Errorf("parseCredential(%q) accepted", bad)
		}
	}
}

func TestCanonicalResourceV2(t *testing.T) {
	cases := []struct {
		url    string
		bucket string
		want   string
	}{
		{url: "http://h/", want: "/"},
		{url: "http://h/", bucket: "b", want: "/b/"},
		{url: "http://h/k%20x", bucket: "b", want: "/b/k%20x"},
		{url: "http://h/b/k?acl", want: "/b/k?acl"},
		{url: "http://h/b/k?uploads=", want: "/b/k?uploads="},
		{url: "http://h/b/k?x-id=GetObject&versionId=3&acl", want: "/b/k?acl&versionId=3"},
		{url: "http://h/b/k?uploadId=a%2Bb&partNumber=2", want: "/b/k?partNumber=2&uploadId=a+b"},
		{url: "http://h/b/k?response-content-type=text%2Fplain&prefix=a", want: "/b/k?response-content-type=text/plain"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("GET", c.url, nil)
		if got := canonicalResourceV2(req, c.bucket); got != c.want {
			t.Errorf("canonicalResourceV2(%s, %q) = %q, want %q", c.url, c.bucket, got, c.want)
		}
	}
}

func TestCanonicalAmzHeaders(t *testing.T) {
	header := http.Header{
		"X-Amz-Meta-B": {" two ", "three"},
		"X-Amz-Acl":    {"private"},
		"Content-Type": {"text/plain"},
	}
	extra := url.Values{"x-amz-security-token": {"tok"}, "AWSAccessKeyId": {"AK"}}
	want := "x-amz-acl:private\nx-amz-meta-b:two,three\nx-amz-security-token:tok\n"
	if got := canonicalAmzHeaders(header, extra); got != want {
		t.Errorf("canonicalAmzHeaders = %q, want %q", got, want)
	}
}

func FuzzCanonicalQuery(f *testing.F) {
	for _, seed := range []string{"", "a=1&b=2", "list-type=2&prefix=&delimiter=%2F", "x=%zz&y", "a+b=c+d&%41=%7e", "==&&=", "k=%E2%82%AC"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		canonical := canonicalQuery(raw)
		if again := canonicalQuery(canonical); again != canonical {
			t.Fatalf("not idempotent: %q -> %q -> %q", raw, canonical, again)
		}
		if canonical == "" {
			return
		}
		pairs := strings.Split(canonical, "&")
		for _, pair := range pairs {
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				t.Fatalf("pair %q has no '=' in %q", pair, canonical)
			}
			checkEncoded(t, name)
			checkEncoded(t, value)
		}
		if !slices.IsSortedFunc(pairs, func(a, b string) int {
			an, av, _ := strings.Cut(a, "=")
			bn, bv, _ := strings.Cut(b, "=")
			if c := strings.Compare(an, bn); c != 0 {
				return c
			}
			return strings.Compare(av, bv)
		}) {
			t.Fatalf("pairs not sorted: %q", canonical)
		}
	})
}

func FuzzCanonicalURI(f *testing.F) {
	for _, seed := range []string{"", "/", "/b/k", "/b/a%2Fb", "/b/%zz", "/b/a b/é", "//../."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		canonical := canonicalURI(path)
		if again := canonicalURI(canonical); again != canonical {
			t.Fatalf("not idempotent: %q -> %q -> %q", path, canonical, again)
		}
		if path != "" && strings.Count(canonical, "/") != strings.Count(path, "/") {
			t.Fatalf("segments changed: %q -> %q", path, canonical)
		}
		for segment := range strings.SplitSeq(canonical, "/") {
			checkEncoded(t, segment)
			decoded, err := url.PathUnescape(segment)
			if err != nil {
				t.Fatalf("segment %q does not decode: %v", segment, err)
			}
			if uriEncode(decoded) != segment {
				t.Fatalf("segment %q does not round-trip", segment)
			}
		}
	})
}

// checkEncoded fails unless s holds only unreserved characters and
// uppercase %XX escapes.
func checkEncoded(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			continue
		}
		if c == '%' && i+2 < len(s) && isUpperHex(s[i+1]) && isUpperHex(s[i+2]) {
			i += 2
			continue
		}
		t.Fatalf("%q is not strictly encoded at byte %d", s, i)
	}
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }
