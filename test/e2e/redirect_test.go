package e2e

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// startRedirectingCoffer starts versitygw and a server that keeps its blobs there with
// storage.s3.redirect on. The server reaches versitygw as localhost rather than 127.0.0.1, so
// presigned URLs name another host than the server. HTTP clients then drop the Authorization
// header when they follow a redirect, as they do with a real store on its own host.
func startRedirectingCoffer(t *testing.T) (*server, s3Backend) {
	t.Helper()
	backend := startVersityGW(t)
	backend.endpoint = strings.Replace(backend.endpoint, "127.0.0.1", "localhost", 1)
	srv := startCofferWith(t, t.TempDir(), "", nil,
		"COFFER_STORAGE_DRIVER=s3",
		"COFFER_STORAGE_S3_ENDPOINT="+backend.endpoint,
		"COFFER_STORAGE_S3_BUCKET="+backend.bucket,
		"COFFER_STORAGE_S3_PATH_STYLE=true",
		"COFFER_STORAGE_S3_ACCESS_KEY="+backend.accessKey,
		"COFFER_STORAGE_S3_SECRET_KEY="+backend.secretKey,
		"COFFER_STORAGE_S3_REDIRECT=true",
		"COFFER_STORAGE_S3_REDIRECT_EXPIRY=10m",
	)
	return srv, backend
}

// fetch sends req and returns the response with its body read. With follow false the
// client returns a redirect instead of following it.
func fetch(t *testing.T, req *http.Request, follow bool) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Timeout: time.Minute}
	if !follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// newRequest builds a request with the root credentials; headers is a list of name, value
// pairs.
func newRequest(t *testing.T, method, url string, body []byte, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build %s %s: %v", method, url, err)
	}
	req.SetBasicAuth(rootUser, rootPassword)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// wantRedirectTo checks that resp is a 307 to a URL of the backend.
func wantRedirectTo(t *testing.T, what string, resp *http.Response, backend s3Backend) {
	t.Helper()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("%s: status %d, expected 307", what, resp.StatusCode)
	}
	if location := resp.Header.Get("Location"); !strings.HasPrefix(location, backend.endpoint+"/"+backend.bucket+"/") {
		t.Errorf("%s: Location %q, expected a URL below %s/%s/", what, location, backend.endpoint, backend.bucket)
	}
}

// TestRedirectBlobToBackend pulls a pushed image's layer with crane and with a plain HTTP
// client through the 307 to versitygw, and checks that a Range request is served by the
// server itself.
func TestRedirectBlobToBackend(t *testing.T) {
	srv, backend := startRedirectingCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()

	ref := srv.ref("e2e/redirect:v1")
	pushRandomImage(t, tb, ref)
	m := decodeJSON[manifest](t, "image manifest", tb.run("crane", "manifest", "--insecure", ref))
	layer := m.Layers[0]

	blob := tb.run("crane", "blob", "--insecure", srv.ref("e2e/redirect@"+layer.Digest))
	if got := sha256Digest(blob); got != layer.Digest {
		t.Errorf("layer pulled by crane hashes to %s, expected %s", got, layer.Digest)
	}
	if int64(len(blob)) != layer.Size {
		t.Errorf("layer pulled by crane has %d bytes, expected %d", len(blob), layer.Size)
	}

	url := "http://" + srv.addr + "/v2/e2e/redirect/blobs/" + layer.Digest
	resp, _ := fetch(t, newRequest(t, http.MethodGet, url, nil), false)
	wantRedirectTo(t, "GET blob", resp, backend)
	if got := resp.Header.Get("Docker-Content-Digest"); got != layer.Digest {
		t.Errorf("GET blob: Docker-Content-Digest %q, expected %s", got, layer.Digest)
	}

	// The presigned URL needs no credentials of the client.
	plain, err := http.NewRequestWithContext(t.Context(), http.MethodGet, resp.Header.Get("Location"), nil)
	if err != nil {
		t.Fatalf("build request for the presigned URL: %v", err)
	}
	resp, body := fetch(t, plain, false)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, blob) {
		t.Errorf("GET presigned URL: status %d with %d bytes, expected 200 with the %d bytes of the layer", resp.StatusCode, len(body), len(blob))
	}

	resp, body = fetch(t, newRequest(t, http.MethodGet, url, nil, "Range", "bytes=10-19"), false)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, blob[10:20]) {
		t.Errorf("GET blob with Range: status %d, body %x; expected 206 with %x", resp.StatusCode, body, blob[10:20])
	}
}

// TestRedirectNativeObjectToBackend reads an object of the native API through the 307 and
// checks that the backend sends the stored Content-Type.
func TestRedirectNativeObjectToBackend(t *testing.T) {
	srv, backend := startRedirectingCoffer(t)
	base := "http://" + srv.addr + "/api/v1/buckets"
	resp, body := fetch(t, newRequest(t, http.MethodPost, base, []byte(`{"name":"files"}`)), true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create bucket: status %d: %s", resp.StatusCode, body)
	}
	content := randomBytes(t, 300<<10)
	url := base + "/files/objects/reports/r1.bin"
	resp, body = fetch(t, newRequest(t, http.MethodPut, url, content, "Content-Type", "application/x-report"), true)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT object: status %d: %s", resp.StatusCode, body)
	}

	resp, _ = fetch(t, newRequest(t, http.MethodGet, url, nil), false)
	wantRedirectTo(t, "GET object", resp, backend)
	if got, want := resp.Header.Get("Coffer-Digest"), sha256Digest(content); got != want {
		t.Errorf("GET object: Coffer-Digest %q on the 307, expected %s", got, want)
	}

	resp, body = fetch(t, newRequest(t, http.MethodGet, url, nil), true)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("GET object following the redirect: status %d with %d bytes, expected 200 with %d", resp.StatusCode, len(body), len(content))
	}
	if got := resp.Header.Get("Content-Type"); got != "application/x-report" {
		t.Errorf("GET object following the redirect: Content-Type %q, expected application/x-report", got)
	}

	resp, body = fetch(t, newRequest(t, http.MethodGet, url, nil, "Range", "bytes=0-9"), false)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[:10]) {
		t.Errorf("GET object with Range: status %d, expected 206 with the first 10 bytes", resp.StatusCode)
	}
}

// TestRedirectS3ObjectToBackend reads objects through the S3 API with presigned URLs of the
// server: a plain object is redirected to versitygw with the server's ETag and Content-Type,
// and an object with user metadata, which the backend cannot send, is served by the server.
func TestRedirectS3ObjectToBackend(t *testing.T) {
	isolateGoSDKEnv(t)
	srv, backend := startRedirectingCoffer(t)
	client := newGoSDKClient(t, srv)
	presign := s3.NewPresignClient(client)
	bucket := aws.String("media")
	if _, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}

	// A presigned PUT sends no checksum, so the object has none, like one written by an
	// older client.
	content := randomBytes(t, 200<<10)
	put, err := presign.PresignPutObject(t.Context(), &s3.PutObjectInput{
		Bucket: bucket, Key: aws.String("plain.bin"), ContentType: aws.String("application/x-plain"),
	})
	if err != nil {
		t.Fatalf("presign PutObject: %v", err)
	}
	putReq, err := http.NewRequestWithContext(t.Context(), http.MethodPut, put.URL, bytes.NewReader(content))
	if err != nil {
		t.Fatalf("build presigned PUT: %v", err)
	}
	putReq.Header.Set("Content-Type", "application/x-plain")
	if resp, body := fetch(t, putReq, false); resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: status %d: %s", resp.StatusCode, body)
	}

	get, err := presign.PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: bucket, Key: aws.String("plain.bin")})
	if err != nil {
		t.Fatalf("presign GetObject: %v", err)
	}
	getReq := func() *http.Request {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, get.URL, nil)
		if err != nil {
			t.Fatalf("build presigned GET: %v", err)
		}
		return req
	}
	resp, _ := fetch(t, getReq(), false)
	wantRedirectTo(t, "S3 GetObject", resp, backend)

	resp, body := fetch(t, getReq(), true)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("S3 GetObject following the redirect: status %d with %d bytes, expected 200 with %d", resp.StatusCode, len(body), len(content))
	}
	if got, want := resp.Header.Get("ETag"), quotedETag(content); got != want {
		t.Errorf("S3 GetObject following the redirect: ETag %s, expected %s", got, want)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/x-plain" {
		t.Errorf("S3 GetObject following the redirect: Content-Type %q, expected application/x-plain", got)
	}

	_, err = client.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: bucket, Key: aws.String("tagged.bin"), Body: bytes.NewReader(content),
		Metadata: map[string]string{"owner": "release-team"},
	})
	if err != nil {
		t.Fatalf("PutObject with metadata: %v", err)
	}
	got, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: bucket, Key: aws.String("tagged.bin")})
	if err != nil {
		t.Fatalf("GetObject with metadata: %v", err)
	}
	defer got.Body.Close()
	data, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatalf("read GetObject with metadata: %v", err)
	}
	if !bytes.Equal(data, content) || got.Metadata["owner"] != "release-team" {
		t.Errorf("GetObject with metadata: %d bytes, metadata %v; expected %d bytes and owner=release-team", len(data), got.Metadata, len(content))
	}
}
