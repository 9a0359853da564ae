package supplychain

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
)

// writeKey stores key as a PKCS #8 PEM file and returns its path.
func writeKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func keyringOf(t *testing.T, s Signer) *Keyring {
	t.Helper()
	pemData, hint, err := PublicKeyPEM(s)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePublicKey("server", pemData)
	if err != nil {
		t.Fatal(err)
	}
	if key.Hint != hint {
		t.Errorf("hint = %s, want %s", hint, key.Hint)
	}
	return &Keyring{Keys: []PublicKey{key}}
}

func TestSignerSimpleSigning(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subject := digest.Digest("sha256:1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2")
	for name, key := range map[string]any{"ecdsa-p256": ecKey, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			s, err := LoadSigner(writeKey(t, key))
			if err != nil {
				t.Fatalf("LoadSigner: %v", err)
			}
			payload, err := NewSimpleSigningPayload("127.0.0.1:5000/demo/app", subject)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParseSimpleSigning(payload)
			if err != nil || parsed.ManifestDigest != subject || parsed.DockerReference != "127.0.0.1:5000/demo/app" {
				t.Fatalf("ParseSimpleSigning = %+v, %v", parsed, err)
			}
			if !strings.HasSuffix(string(payload), `"optional":null}`) {
				t.Errorf("payload %s does not end with cosign's optional:null", payload)
			}
			sig, err := s.SignMessage(payload)
			if err != nil {
				t.Fatal(err)
			}
			verified, err := keyringOf(t, s).VerifySimpleSigning(payload, base64.StdEncoding.EncodeToString(sig), subject)
			if err != nil || verified.Signer != "server" {
				t.Errorf("VerifySimpleSigning = %+v, %v; want verified by server", verified, err)
			}
			if _, err := keyringOf(t, s).VerifySimpleSigning(payload, base64.StdEncoding.EncodeToString(sig), digest.Digest("sha256:"+strings.Repeat("0", 64))); err == nil {
				t.Error("the signature verified for another subject")
			}
		})
	}
}

func TestSignerBlobBundle(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	report, err := os.ReadFile(filepath.Join("testdata", "vectors", "report.bin"))
	if err != nil {
		t.Fatal(err)
	}
	d := digest.SHA256.FromBytes(report)
	data, err := NewBlobBundle(s, d)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := ParseBundle(data)
	if err != nil {
		t.Fatalf("ParseBundle: %v", err)
	}
	// The recorded cosign sign-blob bundle has the same members.
	recorded, err := ParseBundle(readVector(t, "report.bin.v3.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if bundle.MediaType != recorded.MediaType || bundle.MessageSignature == nil || recorded.MessageSignature == nil {
		t.Fatalf("bundle = %+v, recorded = %+v", bundle, recorded)
	}
	if string(bundle.MessageSignature.Digest) != string(recorded.MessageSignature.Digest) {
		t.Errorf("message digest differs from the one cosign recorded for report.bin")
	}
	verified, err := keyringOf(t, s).VerifyBundle(bundle, d)
	if err != nil || verified.Signer != "server" {
		t.Errorf("VerifyBundle = %+v, %v", verified, err)
	}
	if _, err := keyringOf(t, s).VerifyBundle(bundle, digest.SHA256.FromBytes([]byte("other"))); err == nil {
		t.Error("the bundle verified for other content")
	}

	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := NewSigner(edKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBlobBundle(ed, d); !errors.Is(err, ErrDigestSigning) {
		t.Errorf("Ed25519 blob bundle error = %v, want ErrDigestSigning", err)
	}
}

func TestLoadSignerRejects(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(writeKey(t, p384)); err == nil || !strings.Contains(err.Error(), "curve P-384 is not P-256") {
		t.Errorf("P-384 key error = %v", err)
	}
	path := filepath.Join(t.TempDir(), "cosign.key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: []byte{1}}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(path); err == nil || !strings.Contains(err.Error(), "is encrypted; give its password") {
		t.Errorf("encrypted key error = %v", err)
	}
	if _, err := LoadSigner(filepath.Join(t.TempDir(), "missing.pem")); err == nil {
		t.Error("a missing file loaded")
	}
}
