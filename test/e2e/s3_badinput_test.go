package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// badInputBucket is the bucket every bad-input case runs against.
const badInputBucket = "bad-input"

// TestS3BadInput sends requests that the S3 API must reject, and checks the status, the S3
// error code in the XML body, and that nothing was stored.
func TestS3BadInput(t *testing.T) {
	isolateGoSDKEnv(t)
	forEachScheme(t, func(t *testing.T, srv *server) {
		signed := s3Request{method: http.MethodPut, path: "/" + badInputBucket}
		signed.expect(t, srv, http.StatusOK)

		t.Run("wrong secret", func(t *testing.T) {
			req := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/wrong-secret/object", body: []byte("data"), secret: "not-the-root-password"}
			req.expectError(t, srv, http.StatusForbidden, "SignatureDoesNotMatch")
			checkKeys(t, srv, "wrong-secret/", nil)
		})

		t.Run("skewed date", func(t *testing.T) {
			// S3 rejects requests signed more than 15 minutes away from its clock.
			req := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/skewed/object", body: []byte("data"), signedAt: time.Now().Add(-20 * time.Minute)}
			req.expectError(t, srv, http.StatusForbidden, "RequestTimeTooSkewed")
			checkKeys(t, srv, "skewed/", nil)
		})

		t.Run("expired presigned URL", func(t *testing.T) {
			// Signed 10 minutes ago for 60 seconds: expired, but within the allowed clock skew.
			presigned := presignURL(t, srv, http.MethodPut, "/"+badInputBucket+"/expired/object", 60, time.Now().Add(-10*time.Minute))
			expectPresignedError(t, srv, presigned, http.StatusForbidden, "AccessDenied")
			checkKeys(t, srv, "expired/", nil)
		})

		t.Run("presigned expiry over a week", func(t *testing.T) {
			presigned := presignURL(t, srv, http.MethodPut, "/"+badInputBucket+"/week/object", 604801, time.Now())
			expectPresignedError(t, srv, presigned, http.StatusBadRequest, "AuthorizationQueryParametersError")
			checkKeys(t, srv, "week/", nil)
		})

		t.Run("invalid bucket names", func(t *testing.T) {
			for _, name := range []string{"UpperCase", "a..b", "192.168.1.1", strings.Repeat("a", 64)} {
				req := s3Request{method: http.MethodPut, path: "/" + name}
				req.expectError(t, srv, http.StatusBadRequest, "InvalidBucketName")
			}
			if got := listBuckets(t, srv); !slices.Equal(got, []string{badInputBucket}) {
				t.Errorf("ListBuckets after invalid CreateBucket requests returned %q, expected [%s]", got, badInputBucket)
			}
		})

		t.Run("key over 1024 bytes", func(t *testing.T) {
			key := "long/" + strings.Repeat("k", 1020)
			req := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/" + key, body: []byte("data")}
			req.expectError(t, srv, http.StatusBadRequest, "KeyTooLongError")
			checkKeys(t, srv, "long/", nil)
		})

		t.Run("dot-dot key rejected", func(t *testing.T) {
			checkDotDotKey(t, srv)
		})

		t.Run("malformed DeleteObjects XML", func(t *testing.T) {
			put := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/malformed/keep", body: []byte("keep")}
			put.expect(t, srv, http.StatusOK)
			body := []byte("<Delete><Object><Key>malformed/keep</Key></Object>")
			req := s3Request{method: http.MethodPost, path: "/" + badInputBucket, query: "delete=", body: body,
				header: map[string]string{"Content-MD5": contentMD5(body), "Content-Type": "application/xml"}}
			req.expectError(t, srv, http.StatusBadRequest, "MalformedXML")
			checkKeys(t, srv, "malformed/", []string{"malformed/keep"})
		})

		t.Run("range past the end", func(t *testing.T) {
			data := randomBytes(t, 1000)
			put := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/range/object", body: data}
			put.expect(t, srv, http.StatusOK)
			get := s3Request{method: http.MethodGet, path: "/" + badInputBucket + "/range/object", header: map[string]string{"Range": "bytes=5000-6000"}}
			get.expectError(t, srv, http.StatusRequestedRangeNotSatisfiable, "InvalidRange")
			whole := s3Request{method: http.MethodGet, path: "/" + badInputBucket + "/range/object"}
			if got := whole.expect(t, srv, http.StatusOK); !bytes.Equal(got, data) {
				t.Errorf("object after the rejected range request has SHA-256 %s, expected %s", sha256Hex(got), sha256Hex(data))
			}
		})

		t.Run("payload hash mismatch", func(t *testing.T) {
			// Signed correctly, but x-amz-content-sha256 names other bytes than the body's.
			req := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/payload/object", body: randomBytes(t, 2<<20),
				payloadHash: sha256Hex([]byte("another body"))}
			req.expectError(t, srv, http.StatusBadRequest, "XAmzContentSHA256Mismatch")
			checkKeys(t, srv, "payload/", nil)
		})

		t.Run("Content-MD5 mismatch", func(t *testing.T) {
			req := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/md5/object", body: []byte("the body"),
				header: map[string]string{"Content-MD5": contentMD5([]byte("another body"))}}
			req.expectError(t, srv, http.StatusBadRequest, "BadDigest")
			checkKeys(t, srv, "md5/", nil)
		})
	})
}

// checkDotDotKey sends keys with . and .. path segments, which a client that maps keys to paths
// would resolve to another key: each gets 400 InvalidArgument and nothing is stored.
func checkDotDotKey(t *testing.T, srv *server) {
	t.Helper()
	for _, key := range []string{"../x", "./y", "dots/../z"} {
		req := s3Request{method: http.MethodPut, path: "/" + badInputBucket + "/" + key, body: []byte("dot-dot key content")}
		req.expectError(t, srv, http.StatusBadRequest, "InvalidArgument")
	}
	checkKeys(t, srv, "../", nil)
	checkKeys(t, srv, "./", nil)
	checkKeys(t, srv, "dots/", nil)
}

// s3Request is one request signed by hand with SigV4 in the Authorization header, so a
// test can send what no SDK would: a wrong secret, an old date, a bad Content-MD5.
type s3Request struct {
	method string
	path   string // escaped path, such as "/bucket/key"
	query  string // raw query without "?"
	body   []byte
	// payloadHash is the signed x-amz-content-sha256. Empty means the body's SHA-256.
	payloadHash string
	header      map[string]string
	secret      string    // root password when empty
	signedAt    time.Time // now when zero
	// accessKey signs instead of the root user; token is the session token of
	// temporary credentials; region replaces s3Region in the signature.
	accessKey, token, region string
	// afterSign, when set, changes the request after it was signed.
	afterSign func(*http.Request)
}

// send signs and sends the request and returns the response with its body read.
func (r s3Request) send(t *testing.T, srv *server) (*http.Response, []byte) {
	t.Helper()
	target := srv.s3Endpoint() + r.path
	if r.query != "" {
		target += "?" + r.query
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, target, bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("build %s %s: %v", r.method, r.path, err)
	}
	for name, value := range r.header {
		req.Header.Set(name, value)
	}
	payloadHash := r.payloadHash
	if payloadHash == "" {
		payloadHash = sha256Hex(r.body)
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)

	secret, signedAt := r.secret, r.signedAt
	if secret == "" {
		secret = rootPassword
	}
	if signedAt.IsZero() {
		signedAt = time.Now()
	}
	accessKey := r.accessKey
	if accessKey == "" {
		accessKey = rootUser
	}
	region := r.region
	if region == "" {
		region = s3Region
	}
	credentials := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secret, SessionToken: r.token}
	if err := s3Signer().SignHTTP(t.Context(), credentials, req, payloadHash, "s3", region, signedAt); err != nil {
		t.Fatalf("sign %s %s: %v", r.method, r.path, err)
	}
	if r.afterSign != nil {
		r.afterSign(req)
	}

	resp, err := srv.httpClient(t, time.Minute).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response to %s %s: %v", r.method, r.path, err)
	}
	return resp, body
}

// expect sends the request, fails the test unless the status is want, and returns the body.
func (r s3Request) expect(t *testing.T, srv *server, want int) []byte {
	t.Helper()
	resp, body := r.send(t, srv)
	if resp.StatusCode != want {
		t.Fatalf("%s %s returned %d, expected %d\n%s", r.method, r.path, resp.StatusCode, want, tail(body))
	}
	return body
}

// expectError sends the request and checks the status and the S3 error code.
func (r s3Request) expectError(t *testing.T, srv *server, status int, code string) {
	t.Helper()
	resp, body := r.send(t, srv)
	checkS3Error(t, r.method+" "+truncate(r.path, 80), resp, body, status, code)
}

// checkS3Error checks an error response: its status, its XML error code, and that its
// RequestId matches the x-amz-request-id header.
func checkS3Error(t *testing.T, request string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s returned %d, expected %d\n%s", request, resp.StatusCode, status, tail(body))
		return
	}
	doc := parseS3Error(t, body)
	if doc.Code != code {
		t.Errorf("%s returned error code %q (%s), expected %q", request, doc.Code, doc.Message, code)
	}
	if header := resp.Header.Get("X-Amz-Request-Id"); doc.RequestID == "" || doc.RequestID != header {
		t.Errorf("%s: error RequestId %q differs from the x-amz-request-id header %q", request, doc.RequestID, header)
	}
}

// presignURL returns a SigV4 presigned URL valid for expires seconds from signedAt.
func presignURL(t *testing.T, srv *server, method, path string, expires int, signedAt time.Time) string {
	t.Helper()
	return presignURLWith(t, srv, aws.Credentials{AccessKeyID: rootUser, SecretAccessKey: rootPassword}, method, path, expires, signedAt)
}

// presignURLWith is presignURL with other credentials.
func presignURLWith(t *testing.T, srv *server, credentials aws.Credentials, method, path string, expires int, signedAt time.Time) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.s3Endpoint()+path, nil)
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	req.URL.RawQuery = "X-Amz-Expires=" + strconv.Itoa(expires)
	presigned, _, err := s3Signer().PresignHTTP(t.Context(), credentials, req, "UNSIGNED-PAYLOAD", "s3", s3Region, signedAt)
	if err != nil {
		t.Fatalf("presign %s %s: %v", method, path, err)
	}
	return presigned
}

// expectPresignedError sends a PUT with a small body to a presigned URL and checks the
// status and S3 error code.
func expectPresignedError(t *testing.T, srv *server, presigned string, status int, code string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, presigned, strings.NewReader("data"))
	if err != nil {
		t.Fatalf("build PUT %s: %v", presigned, err)
	}
	resp, err := srv.httpClient(t, time.Minute).Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", presigned, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response to PUT %s: %v", presigned, err)
	}
	checkS3Error(t, "PUT "+presigned, resp, body, status, code)
}

// s3Signer signs S3 requests, whose canonical URI is the path as sent, not escaped again.
func s3Signer() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// checkKeys lists the bad-input bucket under prefix with ListObjectsV2 and checks that the
// keys are exactly want.
func checkKeys(t *testing.T, srv *server, prefix string, want []string) {
	t.Helper()
	req := s3Request{method: http.MethodGet, path: "/" + badInputBucket, query: "list-type=2&prefix=" + url.QueryEscape(prefix)}
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
	if !slices.Equal(keys, want) {
		t.Errorf("ListObjectsV2 with prefix %q returned %q, expected %q", prefix, keys, want)
	}
}

// listBuckets returns the bucket names from ListBuckets.
func listBuckets(t *testing.T, srv *server) []string {
	t.Helper()
	req := s3Request{method: http.MethodGet, path: "/"}
	var result struct {
		Buckets []struct{ Name string } `xml:"Buckets>Bucket"`
	}
	body := req.expect(t, srv, http.StatusOK)
	if err := xml.Unmarshal(body, &result); err != nil {
		t.Fatalf("decode ListBuckets result: %v\n%s", err, body)
	}
	var names []string
	for _, bucket := range result.Buckets {
		names = append(names, bucket.Name)
	}
	return names
}

func contentMD5(data []byte) string {
	sum := md5.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}
