package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/pkg/client"
)

// signingKeys writes an encrypted cosign key pair (cosign.key with
// password pw, cosign.pub) and an unencrypted Ed25519 pair (ed.key,
// ed.pub) to dir.
func signingKeys(t *testing.T, dir string) {
	t.Helper()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// Small scrypt parameters keep the test fast; the CLI reads whatever
	// parameters the file names.
	encrypted, err := supplychain.EncryptCosignKey(ecKey, []byte("pw"), supplychain.ScryptParams{N: 1024, R: 8, P: 1})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "cosign.key", encrypted)
	writeFile(t, dir, "cosign.pub", publicKeyPEM(t, &ecKey.PublicKey))

	edPublic, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "ed.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	writeFile(t, dir, "ed.pub", publicKeyPEM(t, edPublic))
}

func publicKeyPEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// putTrustStore makes the server trust the cosign key of pubPath for the
// objects of bucket.
func putTrustStore(t *testing.T, srv *server, bucket, pubPath string) {
	t.Helper()
	pub, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	store, err := json.Marshal(map[string]any{
		"scope":       map[string]string{"bucket": bucket},
		"cosign_keys": []map[string]string{{"name": "release", "pem": string(pub)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, "http://"+srv.addr+"/api/v1/trust/"+bucket, bytes.NewReader(store))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(rootUser, rootPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT trust store = %d", resp.StatusCode)
	}
}

// TestCLISignVerify signs objects with coffer sign, checks them with
// coffer verify, and checks that a changed object no longer verifies.
func TestCLISignVerify(t *testing.T) {
	srv := startCoffer(t)
	env := &cliEnv{binary: buildCLI(t), home: t.TempDir(), server: "http://" + srv.addr}
	env.mustRun(t, rootPassword+"\n", "login", "--username", rootUser, "--password-stdin")
	dir := t.TempDir()
	signingKeys(t, dir)
	key, pub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	putTrustStore(t, srv, "signed", pub)

	env.mustRun(t, "", "mb", "s3://signed")
	report := filepath.Join(dir, "report.bin")
	writeFile(t, dir, "report.bin", []byte("quarterly report\n"))
	env.mustRun(t, "", "cp", report, "s3://signed/2026/report.bin")

	t.Run("wrong password", func(t *testing.T) {
		t.Setenv("COSIGN_PASSWORD", "not-the-password")
		_, stderr, code := env.run(t, "", "sign", "--key", key, "s3://signed/2026/report.bin")
		if code != 2 || !strings.Contains(stderr, "wrong password") {
			t.Errorf("sign with a wrong password exited with %d: %s; want 2 and wrong password", code, stderr)
		}
	})

	t.Setenv("COSIGN_PASSWORD", "pw")
	signed := env.mustRun(t, "", "sign", "--key", key, "--bundle", filepath.Join(dir, "report.bin.sigstore.json"), "s3://signed/2026/report.bin", "-o", "json")
	var result struct {
		Attachment string `json:"attachment"`
		KeyHint    string `json:"key_hint"`
	}
	if err := json.Unmarshal([]byte(signed), &result); err != nil {
		t.Fatalf("decode coffer sign output: %v\n%s", err, signed)
	}
	stable := func(s string) string {
		return strings.NewReplacer(result.Attachment, "<attachment>", result.KeyHint, "<hint>").Replace(s)
	}
	checkGolden(t, "sign", stable(signed), dir)
	if _, err := os.Stat(filepath.Join(dir, "report.bin.sigstore.json")); err != nil {
		t.Errorf("--bundle wrote no file: %v", err)
	}

	t.Run("signed object verifies", func(t *testing.T) {
		text := env.mustRun(t, "", "verify", "--key", pub, "s3://signed/2026/report.bin")
		for _, want := range []string{"Verified: yes", "verified by cosign.pub", "Server:   signed yes, verified yes"} {
			if !strings.Contains(text, want) {
				t.Errorf("coffer verify printed:\n%s\nwant a line with %q", text, want)
			}
		}
		checkGolden(t, "verify-verified", stable(env.mustRun(t, "", "verify", "--key", pub, "s3://signed/2026/report.bin", "-o", "json")), dir)
	})

	t.Run("other key does not verify", func(t *testing.T) {
		_, _, code := env.run(t, "", "verify", "--key", filepath.Join(dir, "ed.pub"), "s3://signed/2026/report.bin")
		if code != 8 {
			t.Errorf("verify with another key exited with %d, want 8 (not verified)", code)
		}
	})

	t.Run("changed object does not verify", func(t *testing.T) {
		writeFile(t, dir, "report.bin", []byte("quarterly report, edited after signing\n"))
		env.mustRun(t, "", "cp", report, "s3://signed/2026/report.bin")
		stdout, stderr, code := env.run(t, "", "verify", "--key", pub, "s3://signed/2026/report.bin", "-o", "json")
		if code != 8 || !strings.Contains(stderr, "not verified") {
			t.Errorf("verify after the change exited with %d: %s; want 8 and not verified", code, stderr)
		}
		checkGolden(t, "verify-not-verified", stable(stdout), dir)
	})

	t.Run("ed25519 key", func(t *testing.T) {
		notes := writeFile(t, dir, "notes.txt", []byte("signed with Ed25519\n"))
		env.mustRun(t, "", "cp", notes, "s3://signed/notes.txt")
		env.mustRun(t, "", "sign", "--key", filepath.Join(dir, "ed.key"), "s3://signed/notes.txt")
		text := env.mustRun(t, "", "verify", "--key", filepath.Join(dir, "ed.pub"), "s3://signed/notes.txt")
		if !strings.Contains(text, "Verified: yes") || !strings.Contains(text, "verified by ed.pub") {
			t.Errorf("coffer verify of an Ed25519 signature printed:\n%s", text)
		}
	})

	t.Run("unsigned image", func(t *testing.T) {
		env.mustRun(t, "", "push", "signed/app:1.0", report)
		stdout, _, code := env.run(t, "", "verify", "--key", pub, "signed/app:1.0")
		if code != 8 || !strings.Contains(stdout, "Verified: no") || !strings.Contains(stdout, "Server:   signed no, verified no") {
			t.Errorf("verify of an unsigned image exited with %d:\n%s", code, stdout)
		}
	})
}

// pushLegacySignature signs the manifest digest of repo:tag with the
// ECDSA key in keyPath, as cosign v2 does, and pushes the signature under
// the tag sha256-<hex>.sig: a simple-signing payload layer with the
// signature in its annotation.
func pushLegacySignature(t *testing.T, srv *server, keyPath, repo, tag string) string {
	t.Helper()
	ctx := t.Context()
	c, err := client.New("http://"+srv.addr, client.Options{Auth: client.Basic{Username: rootUser, Password: rootPassword}})
	if err != nil {
		t.Fatal(err)
	}
	_, subject, err := c.FetchManifest(ctx, repo, tag)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := supplychain.ParseSigner("cosign.key", pemData, func() ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}

	payload, err := supplychain.NewSimpleSigningPayload(srv.addr+"/"+repo, digest.Digest(subject.Digest))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.SignMessage(payload)
	if err != nil {
		t.Fatal(err)
	}

	config, err := c.PushBlob(ctx, repo, bytes.NewReader([]byte("{}")), client.PushBlobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := c.PushBlob(ctx, repo, bytes.NewReader(payload), client.PushBlobOptions{})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     supplychain.MediaTypeOCIManifest,
		"config":        map[string]any{"mediaType": supplychain.MediaTypeOCIImageConfig, "digest": config.Digest, "size": config.Size},
		"layers": []map[string]any{{
			"mediaType": supplychain.MediaTypeCosignSimpleSigning, "digest": layer.Digest, "size": layer.Size,
			"annotations": map[string]string{supplychain.AnnotationCosignSignature: base64.StdEncoding.EncodeToString(sig)},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}

	legacyTag := supplychain.LegacyTagName(digest.Digest(subject.Digest), supplychain.SuffixSignature)
	if _, err := c.PushManifest(ctx, repo, legacyTag, supplychain.MediaTypeOCIManifest, manifest); err != nil {
		t.Fatal(err)
	}
	return subject.Digest
}

// TestCLIVerifyImage checks coffer verify on an image with a cosign v2
// signature under the sha256-<hex>.sig tag.
func TestCLIVerifyImage(t *testing.T) {
	srv := startCoffer(t)
	env := &cliEnv{binary: buildCLI(t), home: t.TempDir(), server: "http://" + srv.addr}
	env.mustRun(t, rootPassword+"\n", "login", "--username", rootUser, "--password-stdin")
	dir := t.TempDir()
	signingKeys(t, dir)
	env.mustRun(t, "", "push", "signed/app:1.0", writeFile(t, dir, "app.bin", []byte("application\n")))
	manifest := pushLegacySignature(t, srv, filepath.Join(dir, "cosign.key"), "signed/app", "1.0")

	text := env.mustRun(t, "", "verify", "--key", filepath.Join(dir, "cosign.pub"), "signed/app:1.0")
	for _, want := range []string{"Digest:   " + manifest, "cosign-simplesigning  verified by cosign.pub", "Verified: yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("coffer verify printed:\n%s\nwant a line with %q", text, want)
		}
	}
	stdout, _, code := env.run(t, "", "verify", "--key", filepath.Join(dir, "ed.pub"), "signed/app@"+manifest)
	if code != 8 || !strings.Contains(stdout, "not verified") {
		t.Errorf("verify with another key exited with %d:\n%s\nwant 8 and not verified", code, stdout)
	}
}
