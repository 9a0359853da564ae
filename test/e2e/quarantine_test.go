package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// quarantineBucket holds the objects that share the content of a damaged blob.
const quarantineBucket = "corrupt-objects"

// objectClients reads and writes one object through the native API and one through the S3
// API.
type objectClients struct {
	native *ociClient
	sdk    *s3.Client
}

// newObjectClients creates the bucket of the objects.
func newObjectClients(t *testing.T, srv *server, native *ociClient) *objectClients {
	t.Helper()
	mustStatus(t, native, http.MethodPost, "/api/v1/buckets", strings.NewReader(`{"name":"`+quarantineBucket+`"}`), -1, nil, http.StatusCreated)
	return &objectClients{native: native, sdk: newGoSDKClient(t, srv)}
}

const (
	nativeObjectPath = "/api/v1/buckets/" + quarantineBucket + "/objects/native.bin"
	s3ObjectKey      = "s3.bin"
)

// put stores data as both objects.
func (c *objectClients) put(t *testing.T, data []byte) {
	t.Helper()
	mustStatus(t, c.native, http.MethodPut, nativeObjectPath, bytes.NewReader(data), int64(len(data)), nil, http.StatusCreated)
	_, err := c.sdk.PutObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String(quarantineBucket), Key: aws.String(s3ObjectKey), Body: bytes.NewReader(data),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
}

// wantMissing checks that HEAD and GET of both objects return 404, with the S3 error code
// NoSuchKey on GetObject.
func (c *objectClients) wantMissing(t *testing.T) {
	t.Helper()
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		mustStatus(t, c.native, method, nativeObjectPath, nil, 0, nil, http.StatusNotFound).Body.Close()
	}
	in := &s3.HeadObjectInput{Bucket: aws.String(quarantineBucket), Key: aws.String(s3ObjectKey)}
	if _, err := c.sdk.HeadObject(t.Context(), in); !isHTTPStatus(err, http.StatusNotFound) {
		t.Errorf("HeadObject of a quarantined object: error %v, want 404", err)
	}
	_, err := c.sdk.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(quarantineBucket), Key: aws.String(s3ObjectKey)})
	var noSuchKey *types.NoSuchKey
	if !errors.As(err, &noSuchKey) || !isHTTPStatus(err, http.StatusNotFound) {
		t.Errorf("GetObject of a quarantined object: error %v, want 404 NoSuchKey", err)
	}
}

// wantContent checks that both objects read back as data.
func (c *objectClients) wantContent(t *testing.T, data []byte) {
	t.Helper()
	resp := mustStatus(t, c.native, http.MethodGet, nativeObjectPath, nil, 0, nil, http.StatusOK)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("native GET after repair: %d bytes hashing to %s, %v; want %s", len(got), sha256Digest(got), err, sha256Digest(data))
	}
	if got := goSDKGet(t, c.sdk, aws.String(quarantineBucket), s3ObjectKey); !bytes.Equal(got, data) {
		t.Errorf("GetObject after repair: %d bytes hashing to %s, want %s", len(got), sha256Digest(got), sha256Digest(data))
	}
}

// isHTTPStatus reports whether err is an AWS SDK response error with the given status.
func isHTTPStatus(err error, status int) bool {
	var resp interface{ HTTPStatusCode() int }
	return errors.As(err, &resp) && resp.HTTPStatusCode() == status
}

// checkQuarantined checks that HEAD and GET of a blob that the scrub quarantined get 404,
// and that the GET names the OCI error code BLOB_UNKNOWN, so that a client pushes it again.
func checkQuarantined(t *testing.T, client *ociClient, digest string) {
	t.Helper()
	if status := client.blobStatus(t, corruptionRepo, digest); status != http.StatusNotFound {
		t.Errorf("HEAD of quarantined blob %s: status %d, want 404", digest, status)
	}
	resp, err := client.do(t, http.MethodGet, "/v2/"+corruptionRepo+"/blobs/"+digest, nil, 0, nil)
	if err != nil {
		t.Fatalf("GET of quarantined blob %s: %v", digest, err)
	}
	defer resp.Body.Close()
	var body struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	decodeErr := json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusNotFound || decodeErr != nil || len(body.Errors) == 0 || body.Errors[0].Code != "BLOB_UNKNOWN" {
		t.Errorf("GET of quarantined blob %s: status %d, errors %+v (%v); want 404 BLOB_UNKNOWN", digest, resp.StatusCode, body.Errors, decodeErr)
	}
}
