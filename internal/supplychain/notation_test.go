package supplychain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// notationNow lies inside the validity of the recorded test certificate,
// which notation generated for one day only.
var notationNow = time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)

var appTarget = Target{Digest: appDigest, MediaType: MediaTypeOCIManifest, Size: 539}

func notationPolicy(t *testing.T, level VerificationLevel, identities ...string) NotationPolicy {
	t.Helper()
	anchors, err := ParseCertificates("demo.example", readVector(t, "notation-demo.example.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(identities) == 0 {
		identities = []string{"*"}
	}
	return NotationPolicy{Level: level, TrustAnchors: anchors, TrustedIdentities: identities}
}

func otherAnchor(t *testing.T) *x509.Certificate {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other.example"},
		NotBefore: notationNow.Add(-time.Hour), NotAfter: notationNow.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

var notationEnvelopes = []struct{ vector, mediaType string }{
	{"notation-envelope.jws.json", MediaTypeJWS},
	{"notation-envelope.cose", MediaTypeCOSE},
}

func TestVerifyNotationRecorded(t *testing.T) {
	const signer = "CN=demo.example,O=Notary,L=Seattle,ST=WA,C=US"
	for _, e := range notationEnvelopes {
		t.Run(e.vector, func(t *testing.T) {
			envelope := readVector(t, e.vector)
			result, err := VerifyNotation(e.mediaType, envelope, appTarget, notationPolicy(t, LevelStrict), notationNow)
			if err != nil {
				t.Fatalf("VerifyNotation: %v", err)
			}
			if result.Signer != signer {
				t.Errorf("Signer = %q, want %q", result.Signer, signer)
			}
			if !result.SigningTime.Equal(time.Date(2026, 12, 4, 19, 40, 30, 0, time.UTC)) {
				t.Errorf("SigningTime = %s", result.SigningTime)
			}
			if len(result.Warnings) != 0 {
				t.Errorf("Warnings = %q", result.Warnings)
			}

			identity := "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=demo.example"
			if _, err := VerifyNotation(e.mediaType, envelope, appTarget, notationPolicy(t, LevelStrict, identity), notationNow); err != nil {
				t.Errorf("trusted identity: %v", err)
			}
			_, err = VerifyNotation(e.mediaType, envelope, appTarget, notationPolicy(t, LevelStrict, "x509.subject: CN=other.example"), notationNow)
			if !errors.Is(err, ErrUntrusted) {
				t.Errorf("other identity: err = %v, want ErrUntrusted", err)
			}
		})
	}
}

func TestVerifyNotationFailures(t *testing.T) {
	for _, e := range notationEnvelopes {
		t.Run(e.vector, func(t *testing.T) {
			envelope := readVector(t, e.vector)
			strict := notationPolicy(t, LevelStrict)

			_, err := VerifyNotation(e.mediaType, envelope, Target{Digest: app2Digest}, strict, notationNow)
			if !errors.Is(err, ErrSubjectMismatch) {
				t.Errorf("other digest: err = %v, want ErrSubjectMismatch", err)
			}
			_, err = VerifyNotation(e.mediaType, envelope, Target{Digest: appDigest, Size: 540}, strict, notationNow)
			if !errors.Is(err, ErrSubjectMismatch) {
				t.Errorf("other size: err = %v, want ErrSubjectMismatch", err)
			}
			_, err = VerifyNotation(e.mediaType, envelope, appTarget, NotationPolicy{Level: LevelStrict, TrustedIdentities: []string{"*"}}, notationNow)
			if !errors.Is(err, ErrUntrusted) {
				t.Errorf("no anchors: err = %v, want ErrUntrusted", err)
			}
			wrongCA := NotationPolicy{Level: LevelStrict, TrustAnchors: []*x509.Certificate{otherAnchor(t)}, TrustedIdentities: []string{"*"}}
			_, err = VerifyNotation(e.mediaType, envelope, appTarget, wrongCA, notationNow)
			if !errors.Is(err, ErrUntrusted) {
				t.Errorf("wrong CA: err = %v, want ErrUntrusted", err)
			}
			_, err = VerifyNotation(MediaTypeSPDXJSON, envelope, appTarget, strict, notationNow)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("wrong media type: err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestVerifyNotationLevels(t *testing.T) {
	expired := notationNow.Add(48 * time.Hour)
	envelope := readVector(t, "notation-envelope.jws.json")

	_, err := VerifyNotation(MediaTypeJWS, envelope, appTarget, notationPolicy(t, LevelStrict), expired)
	if err == nil || !strings.Contains(err.Error(), "is valid only from") {
		t.Errorf("strict, expired certificate: err = %v", err)
	}
	result, err := VerifyNotation(MediaTypeJWS, envelope, appTarget, notationPolicy(t, LevelPermissive), expired)
	if err != nil {
		t.Fatalf("permissive, expired certificate: %v", err)
	}
	if len(result.Warnings) != 1 || !strings.Contains(result.Warnings[0], "is valid only from") {
		t.Errorf("permissive warnings = %q", result.Warnings)
	}

	audit := NotationPolicy{Level: LevelAudit, TrustAnchors: []*x509.Certificate{otherAnchor(t)}, TrustedIdentities: []string{"*"}}
	result, err = VerifyNotation(MediaTypeJWS, envelope, appTarget, audit, notationNow)
	if err != nil {
		t.Fatalf("audit, wrong CA: %v", err)
	}
	if len(result.Warnings) != 1 || !strings.Contains(result.Warnings[0], "trust anchor") {
		t.Errorf("audit warnings = %q", result.Warnings)
	}
	_, err = VerifyNotation(MediaTypeJWS, envelope, Target{Digest: app2Digest}, audit, notationNow)
	if !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("audit, other digest: err = %v, want ErrSubjectMismatch", err)
	}

	result, err = VerifyNotation(MediaTypeJWS, []byte("garbage"), appTarget, NotationPolicy{Level: LevelSkip}, notationNow)
	if err != nil || !result.Skipped {
		t.Errorf("skip: result = %+v, err = %v", result, err)
	}
	if _, err := ParseVerificationLevel("lenient"); err == nil {
		t.Error("ParseVerificationLevel accepted lenient")
	}
}

func TestVerifyNotationTampered(t *testing.T) {
	var jws map[string]any
	if err := json.Unmarshal(readVector(t, "notation-envelope.jws.json"), &jws); err != nil {
		t.Fatal(err)
	}
	payload := `{"targetArtifact":{"digest":"` + string(appDigest) + `","mediaType":"application/vnd.oci.image.manifest.v1+json","size":539},"x":1}`
	jws["payload"] = base64.RawURLEncoding.EncodeToString([]byte(payload))
	tampered, err := json.Marshal(jws)
	if err != nil {
		t.Fatal(err)
	}
	_, err = VerifyNotation(MediaTypeJWS, tampered, appTarget, notationPolicy(t, LevelStrict), notationNow)
	if !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("tampered JWS: err = %v, want ErrSignatureInvalid", err)
	}

	cose := readVector(t, "notation-envelope.cose")
	cose[len(cose)-1] ^= 0xff
	_, err = VerifyNotation(MediaTypeCOSE, cose, appTarget, notationPolicy(t, LevelStrict), notationNow)
	if !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("tampered COSE: err = %v, want ErrSignatureInvalid", err)
	}

	for _, bad := range []string{"{", `{"payload":"e30","protected":"%%","signature":"AA"}`, `{"payload":"e30","protected":"e30","signature":"AA","header":{}}`} {
		_, err = VerifyNotation(MediaTypeJWS, []byte(bad), appTarget, notationPolicy(t, LevelStrict), notationNow)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("malformed JWS %q: err = %v, want ErrMalformed", bad, err)
		}
	}
	_, err = VerifyNotation(MediaTypeCOSE, []byte{0xd2, 0x84}, appTarget, notationPolicy(t, LevelStrict), notationNow)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed COSE: err = %v, want ErrMalformed", err)
	}
	for _, e := range notationEnvelopes {
		_, err = VerifyNotation(e.mediaType, []byte(" \n"), appTarget, notationPolicy(t, LevelStrict), notationNow)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "the envelope is empty") {
			t.Errorf("empty %s envelope: err = %v, want ErrMalformed saying the envelope is empty", e.mediaType, err)
		}
	}
}
