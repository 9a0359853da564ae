package supplychain

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
)

// testScrypt keeps the key derivation of the tests cheap.
var testScrypt = ScryptParams{N: 1024, R: 8, P: 1}

func TestCosignKeyRoundTrip(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]interface {
		Equal(x crypto.PrivateKey) bool
	}{"ecdsa": ecKey, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			encrypted, err := EncryptCosignKey(key, []byte("correct horse"), testScrypt)
			if err != nil {
				t.Fatalf("encrypt: %v", err)
			}
			if !IsEncryptedCosignKey(encrypted) {
				t.Errorf("IsEncryptedCosignKey(%.40q) = false", encrypted)
			}
			decrypted, err := DecryptCosignKey(encrypted, []byte("correct horse"))
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !key.Equal(decrypted) {
				t.Error("the decrypted key differs from the encrypted one")
			}
			if _, err := DecryptCosignKey(encrypted, []byte("wrong")); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("decrypt with a wrong password: %v, want ErrWrongPassword", err)
			}
		})
	}
}

func TestCosignKeyEmptyPassword(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	encrypted, err := EncryptCosignKey(key, nil, testScrypt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecryptCosignKey(encrypted, []byte{}); err != nil {
		t.Errorf("decrypt a key encrypted with an empty password: %v", err)
	}
}

// rewrite decodes the JSON of an encrypted key, lets edit change it and
// encodes it again.
func rewrite(t *testing.T, encrypted []byte, edit func(map[string]any)) []byte {
	t.Helper()
	block, _ := pem.Decode(encrypted)
	var doc map[string]any
	if err := json.Unmarshal(block.Bytes, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: data})
}

func TestCosignKeyRejects(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	encrypted, err := EncryptCosignKey(key, []byte("pw"), testScrypt)
	if err != nil {
		t.Fatal(err)
	}
	kdf := func(doc map[string]any) map[string]any { return doc["kdf"].(map[string]any) }
	cases := []struct {
		name string
		edit func(map[string]any)
		want error
	}{
		{"argon2 kdf", func(d map[string]any) { kdf(d)["name"] = "argon2id" }, ErrUnsupported},
		{"aes cipher", func(d map[string]any) { d["cipher"].(map[string]any)["name"] = "aes-gcm" }, ErrUnsupported},
		{"short nonce", func(d map[string]any) { d["cipher"].(map[string]any)["nonce"] = "AAAA" }, ErrMalformed},
		{"N not a power of two", func(d map[string]any) { kdf(d)["params"].(map[string]any)["N"] = 1000 }, ErrMalformed},
		{"N too costly", func(d map[string]any) { kdf(d)["params"].(map[string]any)["N"] = 1 << 22 }, ErrUnsupported},
		{"no ciphertext", func(d map[string]any) { delete(d, "ciphertext") }, ErrMalformed},
		{"other salt", func(d map[string]any) { kdf(d)["salt"] = "c2FsdA==" }, ErrWrongPassword},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecryptCosignKey(rewrite(t, encrypted, c.edit), []byte("pw"))
			if !errors.Is(err, c.want) {
				t.Errorf("decrypt: %v, want %v", err, c.want)
			}
		})
	}
	if _, err := DecryptCosignKey([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"), nil); err == nil {
		t.Error("decrypt of an unencrypted PEM block succeeded")
	}
}

func TestParseSignerEncrypted(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	encrypted, err := EncryptCosignKey(key, []byte("pw"), testScrypt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSigner("cosign.key", encrypted, nil); err == nil {
		t.Error("ParseSigner without a password accepted an encrypted key")
	}
	calls := 0
	s, err := ParseSigner("cosign.key", encrypted, func() ([]byte, error) { calls++; return []byte("pw"), nil })
	if err != nil {
		t.Fatalf("ParseSigner: %v", err)
	}
	if calls != 1 || !key.PublicKey.Equal(s.PublicKey()) {
		t.Errorf("password asked %d times, key match %t; want once and the same key", calls, key.PublicKey.Equal(s.PublicKey()))
	}
	_, err = ParseSigner("cosign.key", encrypted, func() ([]byte, error) { return nil, fmt.Errorf("no terminal") })
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("no terminal")) {
		t.Errorf("ParseSigner with a failing password: %v, want that error", err)
	}
}

func TestContentBundleVerifies(t *testing.T) {
	content := []byte("release 1.2 artifact")
	sum := sha256.Sum256(content)
	subject := digest.Digest(fmt.Sprintf("sha256:%x", sum))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for name, key := range map[string]any{"ecdsa": ecKey, "ed25519": edKey} {
		t.Run(name, func(t *testing.T) {
			s, err := NewSigner(key)
			if err != nil {
				t.Fatal(err)
			}
			data, err := NewContentBundle(s, content)
			if err != nil {
				t.Fatalf("sign: %v", err)
			}
			b, err := ParseBundle(data)
			if err != nil {
				t.Fatalf("parse the bundle: %v", err)
			}
			if !bytes.Equal(b.MessageSignature.Digest, sum[:]) {
				t.Errorf("bundle digest %x, want %x", b.MessageSignature.Digest, sum)
			}
			keys := keyringOf(t, s)
			if _, err := keys.VerifyBundleContent(b, content); err != nil {
				t.Errorf("verify with the content: %v", err)
			}
			if _, err := keys.VerifyBundleContent(b, []byte("changed")); !errors.Is(err, ErrSubjectMismatch) {
				t.Errorf("verify changed content: %v, want ErrSubjectMismatch", err)
			}
			_, err = keys.VerifyBundle(b, subject)
			if IsEd25519(s) && !errors.Is(err, ErrUnsupported) {
				t.Errorf("verify an Ed25519 bundle by digest: %v, want ErrUnsupported", err)
			}
			if !IsEd25519(s) && err != nil {
				t.Errorf("verify an ECDSA bundle by digest: %v", err)
			}
		})
	}
}
