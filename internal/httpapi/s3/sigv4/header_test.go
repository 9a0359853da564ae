package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

var testNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// sdkRequest builds a request the way the aws-sdk-go-v2 S3 client does: the
// path escaped with smithy-go's EscapePath, which leaves only unreserved
// characters and slashes unescaped.
func sdkRequest(t *testing.T, method, path, rawQuery string, body []byte) *http.Request {
	t.Helper()
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:9000", Path: path, RawPath: httpbinding.EscapePath(path, false), RawQuery: rawQuery}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// sdkSign signs req with the aws-sdk-go-v2 SigV4 signer configured as its S3
// client configures it (no second path escaping). It sets
// X-Amz-Content-Sha256 to payloadHash first, as the S3 client does.
func sdkSign(t *testing.T, req *http.Request, payloadHash, accessKey, secret, region string, at time.Time) {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, "s3", region, at); err != nil {
		t.Fatal(err)
	}
}

func hexSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestGoSDKHeaderSignedAccepted(t *testing.T) {
	body := []byte("hello coffer, this is the object body")
	cases := []struct {
		name     string
		method   string
		path     string
		rawQuery string
		headers  http.Header
		body     []byte
		payload  string
	}{
		{name: "get object special key", method: "GET", path: "/bucket/dir/a b!'()*+=€,;:@$&.txt", rawQuery: "x-id=GetObject",
			headers: http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}}, payload: emptySHA256Hex},
		{name: "put hex payload", method: "PUT", path: "/bucket/obj.bin", rawQuery: "x-id=PutObject",
			headers: http.Header{"Content-Type": {"application/octet-stream"}, "X-Amz-Meta-Owner": {"  a   b  "}, "X-Amz-Checksum-Crc32": {"AAAAAA=="}},
			body:    body, payload: hexSHA256(body)},
		{name: "put unsigned payload", method: "PUT", path: "/bucket/obj.bin", rawQuery: "x-id=PutObject", body: body, payload: unsignedPayload},
		{name: "list objects query", method: "GET", path: "/bucket", rawQuery: "list-type=2&prefix=a%2Fb%20c&delimiter=%2F&encoding-type=url&start-after=&x-id=ListObjectsV2",
			payload: emptySHA256Hex},
		{name: "path not normalised", method: "GET", path: "/bucket/a//b/../c/./d", payload: emptySHA256Hex},
		{name: "repeated query names", method: "GET", path: "/bucket", rawQuery: "b=2&a=3&b=1&a", payload: emptySHA256Hex},
		{name: "multi-value header", method: "GET", path: "/bucket/k", headers: http.Header{"X-Amz-Meta-List": {"one", "two"}}, payload: emptySHA256Hex},
		{name: "empty body put", method: "PUT", path: "/bucket/empty", payload: emptySHA256Hex},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := sdkRequest(t, c.method, c.path, c.rawQuery, c.body)
			for name, values := range c.headers {
				req.Header[name] = values
			}
			sdkSign(t, req, c.payload, testAccessKey, testSecret, testRegion, testNow)

			got := serve(t, newTestVerifier(testNow), "", req)
			expectAccepted(t, got)
			if got.identity.AccessKey != testAccessKey || got.identity.Method != MethodSigV4Header {
				t.Errorf("identity = %+v", got.identity)
			}
			if !bytes.Equal(got.body, c.body) {
				t.Errorf("body = %q, want %q", got.body, c.body)
			}
			if got.decodedLength != int64(len(c.body)) {
				t.Errorf("DecodedLength = %d, want %d", got.decodedLength, len(c.body))
			}
		})
	}
}

func TestGoSDKHeaderSignedRejected(t *testing.T) {
	body := []byte("payload bytes")
	cases := []struct {
		name      string
		accessKey string
		secret    string
		region    string
		signedAt  time.Time
		payload   string
		mutate    func(req *http.Request)
		want      string
	}{
		{name: "wrong secret", secret: "not-the-secret", want: "SignatureDoesNotMatch"},
		{name: "unknown access key", accessKey: "AKIDUNKNOWN", want: "InvalidAccessKeyId"},
		{name: "other region", region: "eu-west-1", want: "AuthorizationHeaderMalformed"},
		{name: "skewed 16 minutes behind", signedAt: testNow.Add(-16 * time.Minute), want: "RequestTimeTooSkewed"},
		{name: "skewed 16 minutes ahead", signedAt: testNow.Add(16 * time.Minute), want: "RequestTimeTooSkewed"},
		{name: "signed header changed", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Owner", "mallory") }, want: "SignatureDoesNotMatch"},
		{name: "signed header removed", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Meta-Owner") }, want: "SignatureDoesNotMatch"},
		{name: "query changed", mutate: func(r *http.Request) { r.URL.RawQuery = "x-id=DeleteObject" }, want: "SignatureDoesNotMatch"},
		{name: "path changed", mutate: func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/bucket/other", "" }, want: "SignatureDoesNotMatch"},
		{name: "method changed", mutate: func(r *http.Request) { r.Method = "POST" }, want: "SignatureDoesNotMatch"},
		{name: "host changed", mutate: func(r *http.Request) { r.Host = "evil.example:9000" }, want: "SignatureDoesNotMatch"},
		{name: "payload hash does not match body", payload: hexSHA256([]byte("other bytes")), want: "XAmzContentSHA256Mismatch"},
		{name: "payload hash header replaced", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) }, want: "SignatureDoesNotMatch"},
		{name: "missing payload hash", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") }, want: "InvalidRequest"},
		{name: "invalid payload hash", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "xyz") }, want: "InvalidArgument"},
		{name: "credential date differs from x-amz-date", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20260116T000500Z") }, want: "AuthorizationHeaderMalformed"},
		{name: "missing date", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, want: "AccessDenied"},
		{name: "signature truncated", mutate: func(r *http.Request) { r.Header.Set("Authorization", r.Header.Get("Authorization")[:200]) }, want: "SignatureDoesNotMatch"},
		{name: "also presigned", mutate: func(r *http.Request) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" }, want: "InvalidArgument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			accessKey, secret, region, signedAt, payload := testAccessKey, testSecret, testRegion, testNow, hexSHA256(body)
			if c.accessKey != "" {
				accessKey = c.accessKey
			}
			if c.secret != "" {
				secret = c.secret
			}
			if c.region != "" {
				region = c.region
			}
			if !c.signedAt.IsZero() {
				signedAt = c.signedAt
			}
			if c.payload != "" {
				payload = c.payload
			}
			req := sdkRequest(t, "PUT", "/bucket/key.txt", "x-id=PutObject", body)
			req.Header.Set("X-Amz-Meta-Owner", "alice")
			sdkSign(t, req, payload, accessKey, secret, region, signedAt)
			if c.mutate != nil {
				c.mutate(req)
			}
			expectCode(t, serve(t, newTestVerifier(testNow), "", req), c.want)
		})
	}
}

func TestGoSDKHeaderSkewWithinLimit(t *testing.T) {
	for _, offset := range []time.Duration{-15 * time.Minute, 14 * time.Minute} {
		req := sdkRequest(t, "GET", "/bucket/k", "", nil)
		sdkSign(t, req, emptySHA256Hex, testAccessKey, testSecret, testRegion, testNow.Add(offset))
		expectAccepted(t, serve(t, newTestVerifier(testNow), "", req))
	}
}

func TestUnsignedHeaderAddedAccepted(t *testing.T) {
	// An ordinary header added or changed after signing is simply not
	// part of the signature.
	req := sdkRequest(t, "GET", "/bucket/k", "", nil)
	sdkSign(t, req, emptySHA256Hex, testAccessKey, testSecret, testRegion, testNow)
	req.Header.Set("Accept", "text/plain")
	req.Header.Set("User-Agent", "changed/1.0")
	expectAccepted(t, serve(t, newTestVerifier(testNow), "", req))
}

func TestUnsignedAmzHeaderRejected(t *testing.T) {
	// An x-amz-* header changes what S3 does (metadata, ACLs, copy
	// sources), so, as in S3, it must be signed.
	req := sdkRequest(t, "GET", "/bucket/k", "", nil)
	sdkSign(t, req, emptySHA256Hex, testAccessKey, testSecret, testRegion, testNow)
	req.Header.Set("X-Amz-Meta-Added", "later")
	expectCode(t, serve(t, newTestVerifier(testNow), "", req), "AccessDenied")
}

func TestAuthorizationHeaderMalformed(t *testing.T) {
	const credential = "Credential=" + testAccessKey + "/20260115/us-east-1/s3/aws4_request"
	const signature = "Signature=" + emptySHA256Hex
	cases := map[string]string{
		"no signature":          "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;x-amz-date",
		"host not signed":       "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=x-amz-content-sha256;x-amz-date, " + signature,
		"short credential":      "AWS4-HMAC-SHA256 Credential=" + testAccessKey + "/20260115/us-east-1/s3, SignedHeaders=host, " + signature,
		"uppercase header name": "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=Host, " + signature,
		"unknown component":     "AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host, " + signature + ", Extra=1",
		"duplicate component":   "AWS4-HMAC-SHA256 " + credential + ", " + credential + ", SignedHeaders=host, " + signature,
		"other service":         "AWS4-HMAC-SHA256 Credential=" + testAccessKey + "/20260115/us-east-1/ec2/aws4_request, SignedHeaders=host, " + signature,
		"bad terminal":          "AWS4-HMAC-SHA256 Credential=" + testAccessKey + "/20260115/us-east-1/s3/aws5_request, SignedHeaders=host, " + signature,
	}
	for name, authorization := range cases {
		t.Run(name, func(t *testing.T) {
			req := sdkRequest(t, "GET", "/bucket/k", "", nil)
			req.Header.Set("Authorization", authorization)
			req.Header.Set("X-Amz-Date", "20260115T120000Z")
			req.Header.Set("X-Amz-Content-Sha256", emptySHA256Hex)
			expectCode(t, serve(t, newTestVerifier(testNow), "", req), "AuthorizationHeaderMalformed")
		})
	}
}

func TestSigV4aNotImplemented(t *testing.T) {
	req := sdkRequest(t, "GET", "/bucket/k", "", nil)
	req.Header.Set("Authorization", "AWS4-ECDSA-P256-SHA256 Credential="+testAccessKey+"/20260115/s3/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3045")
	req.Header.Set("X-Amz-Date", "20260115T120000Z")
	req.Header.Set("X-Amz-Region-Set", "*")
	got := expectCode(t, serve(t, newTestVerifier(testNow), "", req), "NotImplemented")
	if got.Status != http.StatusNotImplemented {
		t.Errorf("status = %d, want 501", got.Status)
	}

	// A SigV4 header with a SigV4a streaming payload.
	req = sdkRequest(t, "PUT", "/bucket/k", "", []byte("0\r\n\r\n"))
	req.Header.Set("X-Amz-Decoded-Content-Length", "0")
	sdkSign(t, req, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", testAccessKey, testSecret, testRegion, testNow)
	expectCode(t, serve(t, newTestVerifier(testNow), "", req), "NotImplemented")
}

func TestUnsupportedAuthorizationScheme(t *testing.T) {
	req := sdkRequest(t, "GET", "/bucket/k", "", nil)
	req.Header.Set("Authorization", "Bearer abc")
	expectCode(t, serve(t, newTestVerifier(testNow), "", req), "InvalidArgument")
}

type failingCredentials struct{}

func (failingCredentials) Lookup(context.Context, string) (string, error) {
	return "", errors.New("database is down")
}

func TestCredentialLookupFailureIsInternal(t *testing.T) {
	req := sdkRequest(t, "GET", "/bucket/k", "", nil)
	sdkSign(t, req, emptySHA256Hex, testAccessKey, testSecret, testRegion, testNow)
	v := newTestVerifier(testNow)
	v.Credentials = failingCredentials{}
	got := serve(t, v, "", req)
	var authErr *Error
	if got.verifyErr == nil || errors.As(got.verifyErr, &authErr) {
		t.Fatalf("error = %v, want a plain internal error", got.verifyErr)
	}
	if !strings.Contains(got.verifyErr.Error(), "database is down") {
		t.Errorf("error %q does not keep its cause", got.verifyErr)
	}
}

func TestAnonymousRequest(t *testing.T) {
	body := []byte("anonymous body")
	req := sdkRequest(t, "PUT", "/bucket/k", "", body)
	got := serve(t, newTestVerifier(testNow), "", req)
	expectAccepted(t, got)
	if got.identity != (Identity{Method: MethodAnonymous}) {
		t.Errorf("identity = %+v, want anonymous", got.identity)
	}
	if !bytes.Equal(got.body, body) {
		t.Errorf("body = %q", got.body)
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	err := error(ErrSignatureDoesNotMatch.withMessage("specific"))
	if !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Error("errors.Is does not match a sentinel with another message")
	}
	if errors.Is(err, ErrAccessDenied) {
		t.Error("errors.Is matches a sentinel of another code")
	}
	wrapped := ErrInvalidAccessKeyID.wrapping(ErrUnknownAccessKey)
	if !errors.Is(wrapped, ErrUnknownAccessKey) {
		t.Error("wrapped cause is lost")
	}
}

func TestPathSignedAsSent(t *testing.T) {
	// The client sends "!", "(" and ")" unencoded and signs the path exactly
	// as sent instead of its strict encoding.
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:9000", Path: "/bucket/a!(b)", RawPath: "/bucket/a!(b)"}
	req, err := http.NewRequest("GET", u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.EscapedPath() != "/bucket/a!(b)" {
		t.Fatalf("request path is %q", req.URL.EscapedPath())
	}
	sdkSign(t, req, emptySHA256Hex, testAccessKey, testSecret, testRegion, testNow)
	expectAccepted(t, serve(t, newTestVerifier(testNow), "", req))
}
