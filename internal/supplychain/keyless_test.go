package supplychain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"testing"
	"time"
)

// stubKeyless accepts any certificate chain and names its common name.
type stubKeyless struct{ calls int }

func (s *stubKeyless) VerifyCertificate(_ *Bundle, chain []*x509.Certificate) (crypto.PublicKey, string, error) {
	s.calls++
	return chain[0].PublicKey, chain[0].Subject.CommonName, nil
}

// keylessBundle returns a DSSE bundle about subject signed by a fresh key
// whose certificate the bundle carries instead of a key hint.
func keylessBundle(t *testing.T) []byte {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ci@example.invalid"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	env := &Envelope{PayloadType: MediaTypeInToto, Payload: []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` +
		appDigest.Encoded() + `"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`)}
	sum := sha256.Sum256(env.PAE())
	sig, err := ecdsa.SignASN1(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := json.Marshal(map[string]any{
		"mediaType":            MediaTypeSigstoreBundleV03,
		"verificationMaterial": map[string]any{"certificate": map[string]string{"rawBytes": base64.StdEncoding.EncodeToString(der)}},
		"dsseEnvelope": map[string]any{"payloadType": env.PayloadType, "payload": base64.StdEncoding.EncodeToString(env.Payload),
			"signatures": []map[string]string{{"sig": base64.StdEncoding.EncodeToString(sig)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return bundle
}

func TestVerifyKeylessBundle(t *testing.T) {
	b, err := ParseBundle(keylessBundle(t))
	if err != nil {
		t.Fatalf("ParseBundle: %v", err)
	}
	if len(b.Certificates) != 1 || b.PublicKeyHint != "" {
		t.Fatalf("bundle material = %d certificates, hint %q", len(b.Certificates), b.PublicKeyHint)
	}

	_, err = cosignKeyring(t).VerifyBundle(b, appDigest)
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("without a keyless verifier: err = %v, want ErrUnsupported", err)
	}

	keyless := &stubKeyless{}
	keyring := &Keyring{Keyless: keyless}
	v, err := keyring.VerifyBundle(b, appDigest)
	if err != nil {
		t.Fatalf("with a keyless verifier: %v", err)
	}
	if v.Signer != "ci@example.invalid" || keyless.calls != 1 {
		t.Errorf("Signer = %q after %d keyless calls", v.Signer, keyless.calls)
	}
	if _, err := keyring.VerifyBundle(b, app2Digest); !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("other subject: err = %v, want ErrSubjectMismatch", err)
	}
}
