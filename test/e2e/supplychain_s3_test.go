package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// TestSupplyChainS3 runs server-side signing, policy enforcement and the
// deletion of attachments through the S3 API of a real cofferd.
func TestSupplyChainS3(t *testing.T) {
	isolateGoSDKEnv(t)
	keyFile, pub := writeSigningKey(t)

	srv := startCofferWith(t, t.TempDir(), "", nil,
		"COFFER_SUPPLY_CHAIN_SIGNING_KEY_FILE="+keyFile, "COFFER_SUPPLY_CHAIN_SIGNING_BUCKETS=signed")
	for _, bucket := range []struct{ name, mode string }{{"signed", "enforce"}, {"locked", "enforce"}, {"audited", "audit"}} {
		putTrustStoreE2E(t, srv, bucket.name, map[string]any{
			"scope":       map[string]string{"bucket": bucket.name},
			"cosign_keys": []map[string]string{{"name": "server", "pem": pub}},
			"policy":      map[string]any{"mode": bucket.mode, "require_signature": true},
		})
	}

	client := newGoSDKClient(t, srv)
	ctx := t.Context()
	for _, name := range []string{"signed", "locked", "audited"} {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Fatalf("CreateBucket %s: %v", name, err)
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String("a.txt"), Body: strings.NewReader("content of " + name)}); err != nil {
			t.Fatalf("PutObject %s: %v", name, err)
		}
	}

	t.Run("signed on upload", func(t *testing.T) {
		if got := goSDKGet(t, client, aws.String("signed"), "a.txt"); string(got) != "content of signed" {
			t.Errorf("GetObject = %q", got)
		}
	})
	t.Run("enforced", func(t *testing.T) {
		message := goSDKGetDenied(t, client, "locked", "a.txt")
		if !strings.Contains(message, "a signature verified by trust store locked (the digest has no signature)") {
			t.Errorf("message = %q", message)
		}
	})
	t.Run("audit mode", func(t *testing.T) {
		if got := goSDKGet(t, client, aws.String("audited"), "a.txt"); string(got) != "content of audited" {
			t.Errorf("GetObject = %q", got)
		}
		_, body := srv.get(t, "/metrics", "", true)
		if !strings.Contains(string(body), `coffer_supply_chain_policy_decisions_total{mode="audit",result="denied"} 1`) {
			t.Errorf("metrics do not count the audit-mode denial:\n%s", grepLines(string(body), "coffer_supply_chain"))
		}
	})
	t.Run("delete removes attachments", func(t *testing.T) {
		sum := sha256.Sum256([]byte("content of signed"))
		d := "sha256:" + hex.EncodeToString(sum[:])
		if resp, _ := srv.get(t, "/api/v1/artifacts/"+d+"/trust", "", true); resp.StatusCode != http.StatusOK {
			t.Fatalf("trust status before delete = %d", resp.StatusCode)
		}
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("signed"), Key: aws.String("a.txt")}); err != nil {
			t.Fatal(err)
		}
		if resp, body := srv.get(t, "/api/v1/artifacts/"+d+"/trust", "", true); resp.StatusCode != http.StatusNotFound {
			t.Errorf("trust status after delete = %d %s, want 404 because the signature went with the object", resp.StatusCode, body)
		}
	})
}

// goSDKGetDenied sends GetObject, fails the test unless the server denies it with
// AccessDenied, and returns the error message.
func goSDKGetDenied(t *testing.T, client *s3.Client, bucket, key string) string {
	t.Helper()
	_, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Fatalf("GetObject %s/%s = %v, expected AccessDenied", bucket, key, err)
	}
	return apiErr.ErrorMessage()
}

// writeSigningKey writes a new ECDSA P-256 private key for server-side signing to a PKCS #8
// PEM file and returns the file and the PEM public key.
func writeSigningKey(t *testing.T) (keyFile, publicKey string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	publicDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: publicDER}))
}

// grepLines returns the lines of text that contain substr.
func grepLines(text, substr string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
