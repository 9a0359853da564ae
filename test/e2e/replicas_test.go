package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestReplicas runs three replicas over one versitygw bucket and one PostgreSQL database
// behind round-robin proxies. It runs the OCI conformance suite through the proxy. It
// continues an S3 multipart upload and a native upload session on other replicas than the
// ones that started them. Then it kills one replica with SIGKILL in the middle of mixed
// traffic.
func TestReplicas(t *testing.T) {
	isolateGoSDKEnv(t)
	c := startCluster(t, 3)

	t.Run("conformance through the proxy", func(t *testing.T) {
		runConformance(t, c.front, "OCI_API_BLOBS_UPLOAD_CANCEL=true", "OCI_API_MANIFESTS_TAG_PARAM=true")
	})
	t.Run("multipart parts on different replicas", func(t *testing.T) {
		testMultipartAcrossReplicas(t, c)
	})
	t.Run("native upload session on different replicas", func(t *testing.T) {
		testNativeSessionAcrossReplicas(t, c)
	})
	t.Run("replica killed during traffic", func(t *testing.T) {
		testReplicaKilled(t, c)
	})
}

// testMultipartAcrossReplicas starts an S3 multipart upload on the first replica, uploads
// each part to another replica, completes it on the second and reads the object through
// the proxy.
func testMultipartAcrossReplicas(t *testing.T, c *cluster) {
	ctx := t.Context()
	clients := make([]*s3.Client, len(c.replicas))
	for i, r := range c.replicas {
		clients[i] = newGoSDKClient(t, r)
	}
	bucket, key := aws.String("replicas-multipart"), aws.String("parts/object.bin")
	if _, err := clients[0].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	created, err := clients[0].CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("CreateMultipartUpload on replica 0: %v", err)
	}

	parts := [][]byte{randomBytes(t, 5*mib), randomBytes(t, 5*mib), randomBytes(t, mib+7)}
	var completed []types.CompletedPart
	for i, data := range parts {
		number := aws.Int32(int32(i + 1))
		replica := (i + 1) % len(clients)
		out, err := clients[replica].UploadPart(ctx, &s3.UploadPartInput{
			Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: number, Body: bytes.NewReader(data),
		})
		if err != nil {
			t.Fatalf("UploadPart %d on replica %d: %v", i+1, replica, err)
		}
		completed = append(completed, types.CompletedPart{ETag: out.ETag, PartNumber: number})
	}
	done, err := clients[1].CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: key, UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload on replica 1: %v", err)
	}
	if got, want := aws.ToString(done.ETag), multipartETag(parts...); got != want {
		t.Errorf("CompleteMultipartUpload ETag = %s, expected %s", got, want)
	}

	whole := bytes.Join(parts, nil)
	got := goSDKGet(t, newGoSDKClient(t, c.front), bucket, *key)
	if !bytes.Equal(got, whole) {
		t.Errorf("GetObject through the proxy returned %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
			len(got), sha256Hex(got), len(whole), sha256Hex(whole))
	}
}

// testNativeSessionAcrossReplicas opens a native upload session on one replica, appends a
// chunk on a second, reads the offset and appends the rest on the third, completes it on
// the first and reads the object on the second.
func testNativeSessionAcrossReplicas(t *testing.T, c *cluster) {
	r := c.replicas
	send(t, r[0], http.MethodPost, "/api/v1/buckets", jsonBody(t, map[string]string{"name": "replicas-native"}), nil, http.StatusCreated)
	key := "session/object.bin"
	resp, _ := send(t, r[0], http.MethodPost, "/api/v1/buckets/replicas-native/uploads",
		jsonBody(t, map[string]string{"key": key}), nil, http.StatusCreated)
	location := resp.Header.Get("Location")
	if location == "" {
		t.Fatal("POST /api/v1/buckets/replicas-native/uploads returned no Location")
	}

	first, second := randomBytes(t, 3*mib+5), randomBytes(t, 2*mib+11)
	send(t, r[1], http.MethodPatch, location, first,
		map[string]string{"Content-Range": fmt.Sprintf("bytes 0-%d/*", len(first)-1)}, http.StatusAccepted)
	resp, _ = send(t, r[2], http.MethodHead, location, nil, nil, http.StatusNoContent, http.StatusOK)
	if got, want := resp.Header.Get("Upload-Offset"), fmt.Sprint(len(first)); got != want {
		t.Fatalf("HEAD %s on replica 2: Upload-Offset %q, expected %q", location, got, want)
	}
	send(t, r[2], http.MethodPatch, location, second,
		map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/*", len(first), len(first)+len(second)-1)}, http.StatusAccepted)

	whole := append(first, second...)
	send(t, r[0], http.MethodPut, location+"?digest="+sha256Digest(whole), nil, nil, http.StatusCreated)
	_, got := send(t, r[1], http.MethodGet, "/api/v1/buckets/replicas-native/objects/"+key, nil, nil, http.StatusOK)
	if !bytes.Equal(got, whole) {
		t.Errorf("GET %s on replica 1 returned %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
			key, len(got), sha256Hex(got), len(whole), sha256Hex(whole))
	}
}

// send sends an authenticated request with the root credentials to srv's main listener,
// fails the test unless the status is one of want, and returns the response with its body.
func send(t *testing.T, srv *server, method, path string, body []byte, header map[string]string, want ...int) (*http.Response, []byte) {
	t.Helper()
	resp, data, err := sendRequest(t, srv, method, path, bytes.NewReader(body), header)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, srv.addr, err)
	}
	for _, status := range want {
		if resp.StatusCode == status {
			return resp, data
		}
	}
	t.Fatalf("%s %s on %s: status %d, expected %v\n%s", method, path, srv.addr, resp.StatusCode, want, truncate(string(data), 2048))
	return nil, nil
}

// sendRequest is send without the status check, for requests that may fail.
func sendRequest(t *testing.T, srv *server, method, path string, body io.Reader, header map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+srv.addr+path, body)
	if err != nil {
		return nil, nil, err
	}
	req.SetBasicAuth(rootUser, rootPassword)
	for name, value := range header {
		req.Header.Set(name, value)
	}
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// jsonBody encodes v as JSON.
func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode JSON: %v", err)
	}
	return data
}
