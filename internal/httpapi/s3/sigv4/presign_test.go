package sigv4

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presignOptions describe one URL presigned with the aws-sdk-go-v2 signer.
type presignOptions struct {
	method       string
	path         string
	rawQuery     string
	header       http.Header // headers present when presigning
	expires      int
	accessKey    string
	secret       string
	region       string
	sessionToken string
	signedAt     time.Time
}

// sdkPresign presigns a URL the way the aws-sdk-go-v2 S3 presign client
// does: X-Amz-Expires set beforehand, UNSIGNED-PAYLOAD, x-amz-* headers
// hoisted into the query. It returns a request for the URL that carries the
// headers the signer returned as signed.
func sdkPresign(t *testing.T, o presignOptions) *http.Request {
	t.Helper()
	if o.method == "" {
		o.method = "GET"
	}
	if o.path == "" {
		o.path = "/bucket/dir/report 2026.pdf"
	}
	if o.expires == 0 {
		o.expires = 900
	}
	if o.accessKey == "" {
		o.accessKey = testAccessKey
	}
	if o.secret == "" {
		o.secret = testSecret
	}
	if o.region == "" {
		o.region = testRegion
	}
	if o.signedAt.IsZero() {
		o.signedAt = testNow
	}

	query := o.rawQuery
	if query != "" {
		query += "&"
	}
	query += "X-Amz-Expires=" + strconv.Itoa(o.expires)
	req := sdkRequest(t, o.method, o.path, query, nil)
	for name, values := range o.header {
		req.Header[name] = values
	}
	signer := v4.NewSigner(func(opts *v4.SignerOptions) { opts.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: o.accessKey, SecretAccessKey: o.secret, SessionToken: o.sessionToken}
	signedURL, signedHeaders, err := signer.PresignHTTP(context.Background(), creds, req, unsignedPayload, "s3", o.region, o.signedAt)
	if err != nil {
		t.Fatal(err)
	}

	presigned, err := http.NewRequest(o.method, signedURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range signedHeaders {
		if !strings.EqualFold(name, "host") {
			presigned.Header[http.CanonicalHeaderKey(name)] = values
		}
	}
	return presigned
}

func TestGoSDKPresignedAccepted(t *testing.T) {
	cases := map[string]presignOptions{
		"get with x-id and checksum mode": {rawQuery: "x-id=GetObject", header: http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}},
		"put":                             {method: "PUT", path: "/bucket/upload.bin", rawQuery: "x-id=PutObject"},
		"maximum expiry":                  {expires: 604800},
		"signed content type":             {method: "PUT", header: http.Header{"Content-Type": {"text/plain"}}},
		"response override":               {rawQuery: "response-content-disposition=attachment%3B%20filename%3D%22r.pdf%22&x-id=GetObject"},
	}
	for name, opts := range cases {
		t.Run(name, func(t *testing.T) {
			req := sdkPresign(t, opts)
			got := serve(t, newTestVerifier(testNow), "", req)
			expectAccepted(t, got)
			if got.identity.AccessKey != testAccessKey || got.identity.Method != MethodSigV4Query {
				t.Errorf("identity = %+v", got.identity)
			}
		})
	}
}

func TestGoSDKPresignedSecurityToken(t *testing.T) {
	req := sdkPresign(t, presignOptions{sessionToken: "token/with+chars"})
	got := serve(t, newTestVerifier(testNow), "", req)
	expectAccepted(t, got)
	if got.identity.SecurityToken != "token/with+chars" {
		t.Errorf("SecurityToken = %q", got.identity.SecurityToken)
	}

	// The token is part of the signed query.
	req = sdkPresign(t, presignOptions{sessionToken: "token-a"})
	q := req.URL.Query()
	q.Set("X-Amz-Security-Token", "token-b")
	req.URL.RawQuery = q.Encode()
	expectCode(t, serve(t, newTestVerifier(testNow), "", req), "SignatureDoesNotMatch")
}

func TestGoSDKPresignedExpiry(t *testing.T) {
	// Valid from the signing time (minus the allowed skew) up to and
	// including signing time + X-Amz-Expires.
	cases := []struct {
		name    string
		now     time.Time
		want    string
		message string
	}{
		{name: "at expiry", now: testNow.Add(900 * time.Second)},
		{name: "one second after expiry", now: testNow.Add(901 * time.Second), want: "AccessDenied", message: "Request has expired"},
		{name: "signed within the skew ahead", now: testNow.Add(-10 * time.Minute)},
		{name: "signed too far ahead", now: testNow.Add(-16 * time.Minute), want: "AccessDenied", message: "Request is not valid yet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := serve(t, newTestVerifier(c.now), "", sdkPresign(t, presignOptions{expires: 900}))
			if c.want == "" {
				expectAccepted(t, got)
				return
			}
			err := expectCode(t, got, c.want)
			if err.Message != c.message || err.Status != http.StatusForbidden {
				t.Errorf("error = %d %q, want 403 %q", err.Status, err.Message, c.message)
			}
		})
	}
}

func TestGoSDKPresignedRejected(t *testing.T) {
	cases := []struct {
		name   string
		opts   presignOptions
		mutate func(req *http.Request)
		want   string
	}{
		{name: "expires over a week", opts: presignOptions{expires: 604801}, want: "AuthorizationQueryParametersError"},
		{name: "expires negative", opts: presignOptions{expires: -1}, want: "AuthorizationQueryParametersError"},
		{name: "expires not a number", mutate: setQuery("X-Amz-Expires", "soon"), want: "AuthorizationQueryParametersError"},
		{name: "get url used for put", mutate: func(r *http.Request) { r.Method = "PUT" }, want: "SignatureDoesNotMatch"},
		{name: "get url used for head", mutate: func(r *http.Request) { r.Method = "HEAD" }, want: "SignatureDoesNotMatch"},
		{name: "wrong secret", opts: presignOptions{secret: "other"}, want: "SignatureDoesNotMatch"},
		{name: "unknown access key", opts: presignOptions{accessKey: "AKIDUNKNOWN"}, want: "InvalidAccessKeyId"},
		{name: "other region", opts: presignOptions{region: "eu-west-1"}, want: "AuthorizationQueryParametersError"},
		{name: "parameter added", mutate: setQuery("x-id", "DeleteObject"), want: "SignatureDoesNotMatch"},
		{name: "expires raised", mutate: setQuery("X-Amz-Expires", "3600"), want: "SignatureDoesNotMatch"},
		{name: "signature missing", mutate: deleteQuery("X-Amz-Signature"), want: "AuthorizationQueryParametersError"},
		{name: "credential missing", mutate: deleteQuery("X-Amz-Credential"), want: "AuthorizationQueryParametersError"},
		{name: "bad date", mutate: setQuery("X-Amz-Date", "2026-01-15T12:00:00Z"), want: "AuthorizationQueryParametersError"},
		{name: "other algorithm", mutate: setQuery("X-Amz-Algorithm", "AWS4-HMAC-SHA1"), want: "AuthorizationQueryParametersError"},
		{name: "sigv4a", mutate: setQuery("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256"), want: "NotImplemented"},
		{name: "host not signed", mutate: setQuery("X-Amz-SignedHeaders", "x-amz-date"), want: "AuthorizationQueryParametersError"},
		{name: "signed header not sent", opts: presignOptions{method: "PUT", header: http.Header{"Content-Type": {"text/plain"}}},
			mutate: func(r *http.Request) { r.Header.Del("Content-Type") }, want: "SignatureDoesNotMatch"},
		{name: "signed header changed", opts: presignOptions{method: "PUT", header: http.Header{"Content-Type": {"text/plain"}}},
			mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/html") }, want: "SignatureDoesNotMatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := sdkPresign(t, c.opts)
			if c.mutate != nil {
				c.mutate(req)
			}
			got := expectCode(t, serve(t, newTestVerifier(testNow), "", req), c.want)
			if c.want == "AuthorizationQueryParametersError" && got.Status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", got.Status)
			}
		})
	}
}

func setQuery(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set(name, value)
		r.URL.RawQuery = q.Encode()
	}
}

func deleteQuery(name string) func(*http.Request) {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Del(name)
		r.URL.RawQuery = q.Encode()
	}
}

func TestPresignedCanonicalQueryKeepsUnknownParameters(t *testing.T) {
	req := sdkPresign(t, presignOptions{rawQuery: "x-id=GetObject&X-Amz-Checksum-Mode=ENABLED&custom=a%20b"})
	raw, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Get("custom") != "a b" || raw.Get("x-id") != "GetObject" {
		t.Fatalf("presigned URL lost parameters: %s", req.URL.RawQuery)
	}
	expectAccepted(t, serve(t, newTestVerifier(testNow), "", req))
}
