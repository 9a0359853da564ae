package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/identity"
)

// oneKey resolves a single access key to the root identity.
type oneKey struct{ accessKey, secret string }

func (k oneKey) ResolveCredential(ctx context.Context, accessKey, sessionToken string) (string, identity.Identity, error) {
	if accessKey != k.accessKey {
		return "", identity.Identity{}, fmt.Errorf("access key %s: %w", accessKey, sigv4.ErrUnknownAccessKey)
	}
	return k.secret, identity.Root(k.accessKey), nil
}

// signedServer serves the S3 handler with real SigV4 verification.
func signedServer(t *testing.T) (*testServer, oneKey) {
	t.Helper()
	key := oneKey{accessKey: "payload-test", secret: "payload-test-secret"}
	auth := s3.SignatureAuthenticator{Verifier: &sigv4.Verifier{Region: testRegion}, Credentials: key}
	handler, driver, store := newHandlerWith(t, auth, s3.Options{Region: testRegion})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, driver: driver, store: store}, key
}

// signedPut sends a PUT of body signed with key, declaring payloadHash in
// x-amz-content-sha256.
func signedPut(t *testing.T, s *testServer, key oneKey, path string, body []byte, payloadHash string) response {
	t.Helper()
	return signedSend(t, s, key, http.MethodPut, path, body, payloadHash)
}

// signedSend sends a request signed with key, declaring payloadHash in
// x-amz-content-sha256. headers is a list of name, value pairs, which are
// signed too.
func signedSend(t *testing.T, s *testServer, key oneKey, method, path string, body []byte, payloadHash string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	creds := aws.Credentials{AccessKeyID: key.accessKey, SecretAccessKey: key.secret}
	if err := signer.SignHTTP(t.Context(), creds, req, payloadHash, "s3", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var data bytes.Buffer
	if _, err := data.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data.Bytes()}
}

func hexSHA256(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

// TestPutObjectChecksDeclaredPayloadHash checks the x-amz-content-sha256
// of a signed PutObject, which the object store checks against the
// content digest instead of hashing the body a second time.
func TestPutObjectChecksDeclaredPayloadHash(t *testing.T) {
	s, key := signedServer(t)
	if resp := signedPut(t, s, key, "/payload", nil, hexSHA256(nil)); resp.status != http.StatusOK {
		t.Fatalf("create bucket = %d: %s", resp.status, resp.body)
	}
	data := bytes.Repeat([]byte("payload hash "), 100_000) // 1.3 MB: MD5 runs in a goroutine of its own

	resp := signedPut(t, s, key, "/payload/good", data, hexSHA256(data))
	if resp.status != http.StatusOK {
		t.Fatalf("PUT with the right payload hash = %d: %s", resp.status, resp.body)
	}
	resp = signedPut(t, s, key, "/payload/bad", data, hexSHA256([]byte("other bytes")))
	if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "<Code>XAmzContentSHA256Mismatch</Code>") {
		t.Errorf("PUT with another payload hash = %d %s, want 400 XAmzContentSHA256Mismatch", resp.status, resp.body)
	}

	if o, err := s.store.Object(t.Context(), "payload", "good"); err != nil || o.Size != int64(len(data)) || string(o.Blob) != "sha256:"+hexSHA256(data) {
		t.Errorf("good object = %+v, %v; want %d bytes with digest sha256:%s", o, err, len(data), hexSHA256(data))
	}
	if o, err := s.store.Object(t.Context(), "payload", "bad"); err == nil {
		t.Errorf("the rejected PUT stored %+v", o)
	}
}

// TestWrongRegionNamesTheRegion checks that a request signed for another
// region gets the expected region in <Region>, from which s3cmd learns
// where to send it again.
func TestWrongRegionNamesTheRegion(t *testing.T) {
	s, key := signedServer(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, s.url+"/regional", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", hexSHA256(nil))
	creds := aws.Credentials{AccessKeyID: key.accessKey, SecretAccessKey: key.secret}
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hexSHA256(nil), "s3", "eu-west-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Code   string `xml:"Code"`
		Region string `xml:"Region"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || body.Code != "AuthorizationHeaderMalformed" || body.Region != testRegion {
		t.Errorf("request signed for eu-west-1 = %d %+v, want 400 AuthorizationHeaderMalformed with region %s", resp.StatusCode, body, testRegion)
	}
}
