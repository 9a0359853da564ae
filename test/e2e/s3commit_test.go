package e2e

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// copyRecorder is a reverse proxy between cofferd and its S3 backend. It records the
// server-side copies that cofferd requests: CopyObject and UploadPartCopy, the requests with an
// x-amz-copy-source header.
type copyRecorder struct {
	url    string
	mu     sync.Mutex
	copies []string // method and path of each copy request since the last take
}

// startCopyRecorder starts the proxy on 127.0.0.1 in front of upstream and stops it when
// the test ends. It keeps the Host header, so request signatures stay valid.
func startCopyRecorder(t *testing.T, upstream string) *copyRecorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatalf("parse upstream %q: %v", upstream, err)
	}
	rec := &copyRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			rec.mu.Lock()
			rec.copies = append(rec.copies, r.Method+" "+r.URL.Path)
			rec.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

// take returns the copies recorded since the last call and clears the record.
func (r *copyRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	copies := r.copies
	r.copies = nil
	return copies
}

// TestS3CommitCopiesNothing commits blobs of every protocol through the s3 driver on
// versitygw, behind a proxy that records the backend requests. No commit may request a
// server-side copy, every blob must read back, and the backend must hold each content once
// although it was uploaded several times.
func TestS3CommitCopiesNothing(t *testing.T) {
	isolateGoSDKEnv(t)
	backend := startVersityGW(t)
	rec := startCopyRecorder(t, backend.endpoint)
	srv := startCofferOnS3(t, backend, rec.url, "COFFER_GC_ENABLED=false")
	client := newOCIClient(srv.addr)
	sdk := newGoSDKClient(t, srv)
	rng := rand.New(rand.NewPCG(4, 9))
	const repo = "e2e/commit"
	bucketRoot := filepath.Join(backend.root, backend.bucket)

	// Above the driver's 8 MiB first part, so the upload is a multipart upload.
	large := randomData(rng, 20<<20)
	client.pushMonolithic(t, repo, sha256Digest(large), bytes.NewReader(large), int64(len(large)))
	wantNoCopies(t, rec, "OCI monolithic push")

	// In a chunked upload the driver may copy the 6 MiB already stored when the second PATCH
	// appends to them, but the commit that follows must not copy.
	chunked := randomData(rng, 12<<20)
	location := client.startUpload(t, repo)
	location, err := client.patch(t, location, 0, bytes.NewReader(chunked[:6<<20]), 6<<20)
	if err != nil {
		t.Fatalf("first PATCH: %v", err)
	}
	if location, err = client.patch(t, location, 6<<20, bytes.NewReader(chunked[6<<20:]), 6<<20); err != nil {
		t.Fatalf("second PATCH: %v", err)
	}
	rec.take()
	if err := client.complete(t, location, sha256Digest(chunked)); err != nil {
		t.Fatalf("complete chunked upload: %v", err)
	}
	wantNoCopies(t, rec, "commit of an OCI chunked upload")

	// A native upload session.
	native := randomData(rng, 9<<20)
	mustStatus(t, client, http.MethodPost, "/api/v1/buckets", strings.NewReader(`{"name":"files"}`), -1, nil, http.StatusCreated)
	resp := mustStatus(t, client, http.MethodPost, "/api/v1/buckets/files/uploads", strings.NewReader(`{"key":"native.bin"}`), -1, nil, http.StatusCreated)
	session := client.base + resp.Header.Get("Location")
	mustStatus(t, client, http.MethodPatch, session, bytes.NewReader(native), int64(len(native)), nil, http.StatusAccepted)
	rec.take()
	mustStatus(t, client, http.MethodPut, session+"?digest="+sha256Digest(native), nil, 0, nil, http.StatusCreated)
	wantNoCopies(t, rec, "commit of a native upload session")

	// S3 PutObject, and a multipart upload of two parts.
	bucket := aws.String("files")
	single := randomData(rng, 10<<20)
	if _, err := sdk.PutObject(t.Context(), &s3.PutObjectInput{Bucket: bucket, Key: aws.String("single.bin"), Body: bytes.NewReader(single)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	wantNoCopies(t, rec, "S3 PutObject")
	parts := [][]byte{randomData(rng, 5<<20), randomData(rng, 3<<20)}
	joined := bytes.Join(parts, nil)
	uploadMultipart(t, sdk, bucket, "multi.bin", parts)
	wantNoCopies(t, rec, "S3 multipart upload")

	// Every blob reads back through each protocol that wrote it.
	for _, data := range [][]byte{large, chunked} {
		if got, status := client.blobDigest(t, repo, sha256Digest(data)); status != http.StatusOK || got != sha256Digest(data) {
			t.Errorf("OCI GET %s: status %d, content %s", sha256Digest(data), status, got)
		}
	}
	for key, data := range map[string][]byte{"native.bin": native, "single.bin": single, "multi.bin": joined} {
		if got := goSDKGet(t, sdk, bucket, key); !bytes.Equal(got, data) {
			t.Errorf("GetObject %s: %d bytes hashing to %s, want %s", key, len(got), sha256Digest(got), sha256Digest(data))
		}
	}

	// Uploading content the store holds already leaves one copy of it.
	client.pushMonolithic(t, repo+"-again", sha256Digest(single), bytes.NewReader(single), int64(len(single)))
	if _, err := sdk.PutObject(t.Context(), &s3.PutObjectInput{Bucket: bucket, Key: aws.String("large.bin"), Body: bytes.NewReader(large)}); err != nil {
		t.Fatalf("PutObject of the OCI layer's content: %v", err)
	}
	wantNoCopies(t, rec, "uploads of stored content")
	for name, data := range map[string][]byte{"large": large, "single": single} {
		if copies := filesWithContent(t, bucketRoot, data); len(copies) != 1 {
			t.Errorf("the backend holds the %s content in %d files, want 1: %q", name, len(copies), copies)
		}
	}
	if got := goSDKGet(t, sdk, bucket, "large.bin"); !bytes.Equal(got, large) {
		t.Errorf("GetObject large.bin: %d bytes hashing to %s", len(got), sha256Digest(got))
	}
}

// wantNoCopies fails the test when the recorder saw a server-side copy since its last take.
func wantNoCopies(t *testing.T, rec *copyRecorder, what string) {
	t.Helper()
	if copies := rec.take(); len(copies) != 0 {
		t.Errorf("%s: cofferd asked the backend for %d server-side copies, want none: %q", what, len(copies), copies)
	}
}

// uploadMultipart stores parts as one object with an S3 multipart upload.
func uploadMultipart(t *testing.T, sdk *s3.Client, bucket *string, key string, parts [][]byte) {
	t.Helper()
	created, err := sdk.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key)})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	var completed []types.CompletedPart
	for i, part := range parts {
		n := aws.Int32(int32(i + 1))
		out, err := sdk.UploadPart(t.Context(), &s3.UploadPartInput{
			Bucket: bucket, Key: aws.String(key), UploadId: created.UploadId, PartNumber: n, Body: bytes.NewReader(part),
		})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		completed = append(completed, types.CompletedPart{PartNumber: n, ETag: out.ETag})
	}
	_, err = sdk.CompleteMultipartUpload(t.Context(), &s3.CompleteMultipartUploadInput{
		Bucket: bucket, Key: aws.String(key), UploadId: created.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	})
	if err != nil {
		t.Fatalf("CompleteMultipartUpload %s: %v", key, err)
	}
}
