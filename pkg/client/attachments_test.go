package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/pkg/client"
)

func readVector(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "supplychain", "testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// putTrustStore defines a trust store with the recorded cosign key for bucket.
func putTrustStore(t *testing.T, name, bucket string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"scope":       map[string]string{"bucket": bucket},
		"cosign_keys": []map[string]string{{"name": "release", "pem": string(readVector(t, "cosign.pub"))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, serverURL+"/api/v1/trust/"+name, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(rootUser, rootPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT trust store = %d", resp.StatusCode)
	}
}

func TestAttachAndTrust(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	ctx := t.Context()
	bucket := newBucket(t, c)
	putTrustStore(t, bucket, bucket)
	const key = "dist/report.bin"
	if _, err := c.PutObject(ctx, bucket, key, bytes.NewReader(readVector(t, "report.bin")), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}

	bundle := readVector(t, "report.bin.sigstore.json")
	a, err := c.Attach(ctx, bucket, key, "application/vnd.dev.sigstore.bundle.v0.3+json", bundle, client.AttachOptions{})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	const reportDigest = "sha256:7aedb16936a84604b499e0cac3e13bbb3d1744710f8a2d5ad7346c6079d799a6"
	if a.Subject != reportDigest {
		t.Errorf("subject = %s, want %s", a.Subject, reportDigest)
	}

	list, err := c.Attachments(ctx, bucket, key)
	if err != nil || len(list) != 1 || list[0].Digest != a.Digest {
		t.Fatalf("Attachments = %+v, %v; want the one attachment", list, err)
	}
	rc, err := c.OpenAttachment(ctx, bucket, key, a.Digest)
	if err != nil {
		t.Fatalf("OpenAttachment: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, bundle) {
		t.Errorf("OpenAttachment read %d bytes, %v; want the bundle", len(got), err)
	}

	status, err := c.ObjectTrust(ctx, bucket, key)
	if err != nil {
		t.Fatalf("ObjectTrust: %v", err)
	}
	if !status.Verified || len(status.Signatures) != 1 || status.Signatures[0].Signer != bucket+"/release" {
		t.Errorf("ObjectTrust = %+v, want one signature verified by %s/release", status, bucket)
	}
	if len(status.Attachments) != 1 || !status.Attachments[0].Current {
		t.Errorf("attachments in the status = %+v, want one current", status.Attachments)
	}
	byDigest, err := c.ArtifactTrust(ctx, reportDigest)
	if err != nil || !byDigest.Verified {
		t.Errorf("ArtifactTrust = %+v, %v; want verified", byDigest, err)
	}

	if _, err := c.PutObject(ctx, bucket, key, strings.NewReader("rebuilt"), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	status, err = c.ObjectTrust(ctx, bucket, key)
	if err != nil {
		t.Fatalf("ObjectTrust after overwrite: %v", err)
	}
	if status.Signed || status.Verified || len(status.Attachments) != 1 || status.Attachments[0].Current {
		t.Errorf("ObjectTrust after overwrite = %+v, want unsigned with one stale attachment", status)
	}
	if !strings.Contains(status.Attachments[0].Error, "made for content "+reportDigest) {
		t.Errorf("stale attachment error = %q", status.Attachments[0].Error)
	}

	if err := c.DeleteObject(ctx, bucket, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ArtifactTrust(ctx, reportDigest); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("ArtifactTrust after deleting the object = %v, want ErrNotFound because the attachment went with it", err)
	}
}
