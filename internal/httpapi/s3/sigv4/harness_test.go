package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	testAccessKey = "AKIDCOFFEREXAMPLE"
	testSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion    = "us-east-1"
)

// staticCredentials maps access keys to secrets.
type staticCredentials map[string]string

func (c staticCredentials) Lookup(_ context.Context, accessKey string) (string, error) {
	secret, ok := c[accessKey]
	if !ok {
		return "", ErrUnknownAccessKey
	}
	return secret, nil
}

func newTestVerifier(now time.Time) *Verifier {
	return &Verifier{
		Credentials: staticCredentials{testAccessKey: testSecret},
		Region:      testRegion,
		Service:     "s3",
		MaxSkew:     15 * time.Minute,
		Now:         func() time.Time { return now },
	}
}

// outcome is what the server-side handler saw.
type outcome struct {
	identity      Identity
	verifyErr     error
	body          []byte
	readErr       error
	trailers      http.Header
	decodedLength int64
}

// serve sends req through a real net/http server on 127.0.0.1, keeping the
// Host header of req, and returns what VerifyWithBucket and a full read of
// the Body produced on the server side.
func serve(t *testing.T, v *Verifier, bucket string, req *http.Request) outcome {
	t.Helper()
	results := make(chan outcome, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, body, err := v.VerifyWithBucket(r, bucket)
		result := outcome{identity: id, verifyErr: err}
		if err == nil {
			result.body, result.readErr = io.ReadAll(body)
			result.trailers = body.Trailers()
			result.decodedLength = body.DecodedLength()
			body.Close()
		}
		results <- result
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	if req.Host == "" {
		req.Host = req.URL.Host
	}
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Scheme = target.Scheme
	req.URL.Host = target.Host
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	select {
	case result := <-results:
		return result
	default:
		t.Fatalf("handler did not run; client error: %v", err)
		return outcome{}
	}
}

// expectAccepted fails the test unless the request verified and its body
// read to a clean EOF.
func expectAccepted(t *testing.T, o outcome) {
	t.Helper()
	if o.verifyErr != nil {
		t.Fatalf("Verify: %v", o.verifyErr)
	}
	if o.readErr != nil {
		t.Fatalf("read body: %v", o.readErr)
	}
}

// expectCode fails the test unless Verify or the body read failed with an
// *Error of the given code.
func expectCode(t *testing.T, o outcome, code string) *Error {
	t.Helper()
	err := o.verifyErr
	if err == nil {
		err = o.readErr
	}
	var authErr *Error
	if !errors.As(err, &authErr) {
		t.Fatalf("error = %v, want an *Error with code %s", err, code)
	}
	if authErr.Code != code {
		t.Fatalf("error code = %s (%v), want %s", authErr.Code, authErr, code)
	}
	return authErr
}

// goldenFile is a JSON file of requests recorded from a real client.
type goldenFile struct {
	Generator string       `json:"generator"`
	Time      string       `json:"time"`
	Cases     []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name              string            `json:"name"`
	Method            string            `json:"method"`
	URL               string            `json:"url"`
	Headers           map[string]string `json:"headers"`
	Body              string            `json:"body"` // base64
	VirtualHostBucket string            `json:"virtual_host_bucket"`
}

func loadGolden(t *testing.T, path string) goldenFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden goldenFile
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return golden
}

func (g goldenCase) bodyBytes(t *testing.T) []byte {
	t.Helper()
	body, err := base64.StdEncoding.DecodeString(g.Body)
	if err != nil {
		t.Fatalf("%s: body: %v", g.Name, err)
	}
	return body
}

// request rebuilds the recorded request with body in place of the recorded
// one. A request that the client sent with Transfer-Encoding: chunked is
// sent the same way.
func (g goldenCase) request(t *testing.T, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(g.Method, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", g.Name, err)
	}
	for name, value := range g.Headers {
		switch strings.ToLower(name) {
		case "content-length", "host":
		case "transfer-encoding":
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = -1
		default:
			req.Header.Set(name, value)
		}
	}
	return req
}

func (g goldenCase) header(name string) string {
	for k, v := range g.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Independent SigV4 helpers for building test bodies; they do not call the
// code under test.

func testHMAC(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

func testSigningKey(secret, day string) []byte {
	key := testHMAC([]byte("AWS4"+secret), day)
	key = testHMAC(key, testRegion)
	key = testHMAC(key, "s3")
	return testHMAC(key, "aws4_request")
}

// seedSignature returns the Signature= value of a SigV4 Authorization header.
func seedSignature(t *testing.T, authorization string) string {
	t.Helper()
	_, signature, ok := strings.Cut(authorization, "Signature=")
	if !ok || len(signature) != 64 {
		t.Fatalf("no signature in %q", authorization)
	}
	return signature
}
