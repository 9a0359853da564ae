package server

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// malformedChunked is a chunked body whose size line ends with a bare LF,
// which net/http rejects while the handler reads the body.
const malformedChunked = "5\nhello\r\n0\r\n\r\n"

// sendRaw writes head, the header block of a request without its final
// blank line, then a chunked transfer-encoding header and body, and
// returns the response status.
func sendRaw(t *testing.T, addr, head, body string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "%sTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%s", head, body); err != nil {
		t.Fatalf("send request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestMalformedChunkedBodyIsBadRequest(t *testing.T) {
	srv := startServer(t, false)
	api := mustHost(t, srv.api)
	s3 := mustHost(t, srv.s3)
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(testRootUser+":"+testRootPassword)) + "\r\n"

	status, _ := send(t, newRequest(t, http.MethodPost, srv.api+"/api/v1/buckets", []byte(`{"name":"bodies"}`)))
	if status != http.StatusCreated {
		t.Fatalf("create bucket: status %d", status)
	}

	cases := []struct {
		name string
		addr string
		head string
	}{
		{"native object put", api, "PUT /api/v1/buckets/bodies/objects/k HTTP/1.1\r\nHost: " + api + "\r\n" + basic},
		{"oci monolithic upload", api, "POST /v2/bodies/blobs/uploads/?digest=sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 HTTP/1.1\r\nHost: " + api + "\r\n" + basic},
		{"s3 put object", s3, signedHead(t, srv.s3+"/bodies/k")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := sendRaw(t, c.addr, c.head, malformedChunked); got != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", got)
			}
		})
	}

	status, _ = send(t, newRequest(t, http.MethodHead, srv.api+"/api/v1/buckets/bodies/objects/k", nil))
	if status != http.StatusNotFound {
		t.Fatalf("object after failed puts: status %d, want 404", status)
	}
}

// signedHead returns the request line and headers of an S3 PUT to target
// signed for an unsigned payload.
func signedHead(t *testing.T, target string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	credentials := aws.Credentials{AccessKeyID: testRootUser, SecretAccessKey: testRootPassword}
	if err := v4.NewSigner().SignHTTP(t.Context(), credentials, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatalf("sign request: %v", err)
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "PUT %s HTTP/1.1\r\nHost: %s\r\n", req.URL.RequestURI(), req.URL.Host)
	for name, values := range req.Header {
		for _, v := range values {
			fmt.Fprintf(&head, "%s: %s\r\n", name, v)
		}
	}
	return head.String()
}

func mustHost(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}
