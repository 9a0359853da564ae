package e2e

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// negativeBucket is the bucket the refused requests of TestS3CredentialsRefused aim at.
const negativeBucket = "refused"

// TestS3CredentialsRefused sends S3 and STS requests that must be rejected
// and checks the status and error code of each, that none gets a 5xx, and that nothing was
// written.
func TestS3CredentialsRefused(t *testing.T) {
	isolateGoSDKEnv(t)
	srv := startCredentialsServer(t)
	(&s3Request{method: http.MethodPut, path: "/" + negativeBucket}).expect(t, srv.server, http.StatusOK)
	key := srv.createAccessKey(t, "")
	as := func(r s3Request) s3Request {
		r.accessKey = key.ID
		if r.secret == "" {
			r.secret = key.Secret
		}
		return r
	}
	object := func(name string) string { return "/" + negativeBucket + "/" + name }

	t.Run("signatures", func(t *testing.T) {
		cases := []struct {
			name   string
			req    s3Request
			status int
			code   string
		}{
			{"unknown key", s3Request{accessKey: "AKUNKNOWN00000000000", secret: key.Secret}, http.StatusForbidden, "InvalidAccessKeyId"},
			{"wrong secret", as(s3Request{secret: strings.Repeat("x", 40)}), http.StatusForbidden, "SignatureDoesNotMatch"},
			// S3 names the expected region in a 400, which SDKs use to retry in the right one.
			{"other region", as(s3Request{region: "eu-west-1"}), http.StatusBadRequest, "AuthorizationHeaderMalformed"},
			{"16 minutes skew", as(s3Request{signedAt: time.Now().Add(-16 * time.Minute)}), http.StatusForbidden, "RequestTimeTooSkewed"},
			{"header added after signing", as(s3Request{afterSign: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Added", "later") }}),
				http.StatusForbidden, "AccessDenied"},
		}
		for _, tc := range cases {
			tc.req.method, tc.req.path, tc.req.body = http.MethodPut, object("signatures/object"), []byte("data")
			tc.req.expectError(t, srv.server, tc.status, tc.code)
		}
	})

	t.Run("presigned URLs", func(t *testing.T) {
		creds := aws.Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}
		expired := presignURLWith(t, srv.server, creds, http.MethodPut, object("presigned/expired"), 60, time.Now().Add(-10*time.Minute))
		expectPresignedError(t, srv.server, expired, http.StatusForbidden, "AccessDenied")
		week := presignURLWith(t, srv.server, creds, http.MethodPut, object("presigned/week"), 604801, time.Now())
		expectPresignedError(t, srv.server, week, http.StatusBadRequest, "AuthorizationQueryParametersError")
		get := presignURLWith(t, srv.server, creds, http.MethodGet, object("presigned/get"), 600, time.Now())
		expectPresignedError(t, srv.server, get, http.StatusForbidden, "SignatureDoesNotMatch")

		revoked := srv.createAccessKey(t, "")
		put := presignURLWith(t, srv.server, aws.Credentials{AccessKeyID: revoked.ID, SecretAccessKey: revoked.Secret},
			http.MethodPut, object("presigned/revoked"), 600, time.Now())
		srv.revokeAccessKey(t, revoked.ID)
		expectPresignedError(t, srv.server, put, http.StatusForbidden, "InvalidAccessKeyId")
	})

	t.Run("web identity", func(t *testing.T) {
		good := srv.token(t, "ci", 0)
		cases := []struct {
			name   string
			token  string
			params map[string]string
			code   string
		}{
			{"expired token", srv.token(t, "ci", -2*time.Hour), nil, "ExpiredTokenException"},
			{"token for another audience", srv.token(t, "plain", 0), nil, "InvalidIdentityToken"},
			{"not a token", "not.a.token", nil, "InvalidIdentityToken"},
			{"duration too short", good, map[string]string{"DurationSeconds": "899"}, "ValidationError"},
			{"duration too long", good, map[string]string{"DurationSeconds": "43201"}, "ValidationError"},
			{"duration not a number", good, map[string]string{"DurationSeconds": "1h"}, "ValidationError"},
			{"malformed policy", good, map[string]string{"Policy": `{"Statement": "allow"}`}, "MalformedPolicyDocument"},
			{"policy naming a principal", good, map[string]string{"Policy": `{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}`}, "MalformedPolicyDocument"},
			{"bad role ARN", good, map[string]string{"RoleArn": "ci"}, "ValidationError"},
			{"missing session name", good, map[string]string{"RoleSessionName": ""}, "MissingParameter"},
			{"other action", good, map[string]string{"Action": "AssumeRole"}, "InvalidAction"},
		}
		for _, tc := range cases {
			status, body := srv.assumeRole(t, tc.token, tc.params)
			if status != http.StatusBadRequest {
				t.Errorf("AssumeRoleWithWebIdentity with %s returned %d, expected 400\n%s", tc.name, status, tail(body))
				continue
			}
			if code := stsErrorCode(t, body); code != tc.code {
				t.Errorf("AssumeRoleWithWebIdentity with %s returned %s, expected %s", tc.name, code, tc.code)
			}
		}
	})

	t.Run("session tokens", func(t *testing.T) {
		status, body := srv.assumeRole(t, srv.token(t, "ci", 0), map[string]string{"DurationSeconds": "900"})
		if status != http.StatusOK {
			t.Fatalf("AssumeRoleWithWebIdentity returned %d, expected 200\n%s", status, tail(body))
		}
		var result struct {
			Credentials sessionCredentials `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
		}
		if err := xml.Unmarshal(body, &result); err != nil {
			t.Fatalf("decode AssumeRoleWithWebIdentity result: %v\n%s", err, body)
		}
		c := result.Credentials
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") {
			t.Fatalf("AssumeRoleWithWebIdentity returned access key %q, expected an ASIA key\n%s", c.AccessKeyID, body)
		}
		tampered := c.SessionToken[:len(c.SessionToken)-2] + "AA"
		if strings.HasSuffix(c.SessionToken, "AA") {
			tampered = c.SessionToken[:len(c.SessionToken)-2] + "BB"
		}
		req := s3Request{method: http.MethodPut, path: object("sessions/object"), body: []byte("data"), accessKey: c.AccessKeyID, secret: c.SecretAccessKey}
		req.token = tampered
		req.expectError(t, srv.server, http.StatusBadRequest, "InvalidToken")
		req.token = ""
		req.expectError(t, srv.server, http.StatusForbidden, "InvalidAccessKeyId")
		req.token = c.SessionToken
		// The bucket has no policy for the token's principal yet.
		req.expectError(t, srv.server, http.StatusForbidden, "AccessDenied")
	})

	t.Run("names", func(t *testing.T) {
		for _, name := range []string{"UpperCase", "a..b", "ab", strings.Repeat("a", 64), "-dash"} {
			as(s3Request{method: http.MethodPut, path: "/" + name}).expectError(t, srv.server, http.StatusBadRequest, "InvalidBucketName")
		}
		as(s3Request{method: http.MethodPut, path: object("names/a%00b"), body: []byte("data")}).expectError(t, srv.server, http.StatusBadRequest, "InvalidArgument")
		as(s3Request{method: http.MethodPut, path: object("names/" + strings.Repeat("k", 1020)), body: []byte("data")}).expectError(t, srv.server, http.StatusBadRequest, "KeyTooLongError")
	})

	if got := bucketKeys(t, srv.server, negativeBucket); len(got) != 0 {
		t.Errorf("bucket %s holds %q after the refused requests, expected nothing", negativeBucket, got)
	}
	if got := listBuckets(t, srv.server); !slices.Equal(got, []string{negativeBucket}) {
		t.Errorf("ListBuckets after the refused requests returned %q, expected [%s]", got, negativeBucket)
	}
}

// bucketKeys lists every key of bucket with the root credentials.
func bucketKeys(t *testing.T, srv *server, bucket string) []string {
	t.Helper()
	req := s3Request{method: http.MethodGet, path: "/" + bucket, query: "list-type=2&max-keys=" + strconv.Itoa(1000) + "&prefix=" + url.QueryEscape("")}
	var result struct {
		Contents []struct{ Key string }
	}
	body := req.expect(t, srv, http.StatusOK)
	if err := xml.Unmarshal(body, &result); err != nil {
		t.Fatalf("decode ListObjectsV2 result: %v\n%s", err, body)
	}
	var keys []string
	for _, object := range result.Contents {
		keys = append(keys, object.Key)
	}
	return keys
}
