package supplychain

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
)

const (
	appDigest    = digest.Digest("sha256:1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2")
	app2Digest   = digest.Digest("sha256:844d5f7ea77b3dcfabf293ad44068ea89c1cdb0a8943baabded6e31eb30f3449")
	app3Digest   = digest.Digest("sha256:280feef4b873254a2bbbbb8b41c0b21228727acf693a3775d68f69b91b13cd4a")
	reportDigest = digest.Digest("sha256:7aedb16936a84604b499e0cac3e13bbb3d1744710f8a2d5ad7346c6079d799a6")
)

func cosignKeyring(t testing.TB) *Keyring {
	t.Helper()
	key, err := ParsePublicKey("cosign.pub", readVector(t, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return &Keyring{Keys: []PublicKey{key}}
}

func otherKeyring(t *testing.T) *Keyring {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePublicKey("other", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return &Keyring{Keys: []PublicKey{key}}
}

func TestParsePublicKeyHint(t *testing.T) {
	key, err := ParsePublicKey("cosign.pub", readVector(t, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if key.Hint != "qPc2iDF9DC9kYRVSc3puyV4CLk/Ca9SIG97leZ4m78E=" {
		t.Errorf("Hint = %q, want the hint cosign wrote into the bundles", key.Hint)
	}
	if _, err := ParsePublicKey("bad", []byte("not pem")); err == nil {
		t.Error("ParsePublicKey accepted a non-PEM key")
	}
}

func TestVerifySimpleSigning(t *testing.T) {
	payload := readVector(t, "cosign-v2-legacy-simplesigning-payload.json")
	sig := strings.TrimSpace(string(readVector(t, "cosign-v2-legacy-sig.b64")))

	v, err := cosignKeyring(t).VerifySimpleSigning(payload, sig, appDigest)
	if err != nil {
		t.Fatalf("VerifySimpleSigning: %v", err)
	}
	if v.Signer != "cosign.pub" {
		t.Errorf("Signer = %q, want cosign.pub", v.Signer)
	}

	_, err = cosignKeyring(t).VerifySimpleSigning(payload, sig, app2Digest)
	if !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("other subject: err = %v, want ErrSubjectMismatch", err)
	}
	_, err = otherKeyring(t).VerifySimpleSigning(payload, sig, appDigest)
	if !errors.Is(err, ErrUntrusted) {
		t.Errorf("untrusted key: err = %v, want ErrUntrusted", err)
	}
	_, err = (&Keyring{}).VerifySimpleSigning(payload, sig, appDigest)
	if !errors.Is(err, ErrUntrusted) {
		t.Errorf("empty keyring: err = %v, want ErrUntrusted", err)
	}
	tampered := strings.Replace(string(payload), "demo/app", "demo/evil", 1)
	_, err = cosignKeyring(t).VerifySimpleSigning([]byte(tampered), sig, appDigest)
	if !errors.Is(err, ErrUntrusted) {
		t.Errorf("tampered payload: err = %v, want ErrUntrusted", err)
	}
	_, err = cosignKeyring(t).VerifySimpleSigning(payload, "", appDigest)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("missing signature: err = %v, want ErrMalformed", err)
	}
}

func TestVerifyRecordedBundles(t *testing.T) {
	tests := []struct {
		vector        string
		subject       digest.Digest
		kind          Kind
		predicateType string
	}{
		{"cosign-v2-image-sign-bundle.json", app2Digest, KindSignature, PredicateCosignSign},
		{"cosign-v3-image-sign-bundle.json", app3Digest, KindSignature, PredicateCosignSign},
		{"cosign-v3-attest-spdx-bundle.json", app3Digest, KindAttestation, PredicateSPDX},
		{"report.bin.sigstore.json", reportDigest, KindSignature, ""},
		{"report.bin.v3.sigstore.json", reportDigest, KindSignature, ""},
		{"report.bin.spdx.sigstore.json", reportDigest, KindAttestation, PredicateSPDX},
		{"report.bin.cdx.v3.sigstore.json", reportDigest, KindAttestation, PredicateCycloneDX},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			b, err := ParseBundle(readVector(t, tt.vector))
			if err != nil {
				t.Fatalf("ParseBundle: %v", err)
			}
			v, err := cosignKeyring(t).VerifyBundle(b, tt.subject)
			if err != nil {
				t.Fatalf("VerifyBundle: %v", err)
			}
			if v.Signer != "cosign.pub" {
				t.Errorf("Signer = %q", v.Signer)
			}
			predicateType := ""
			if v.Statement != nil {
				predicateType = v.Statement.PredicateType
			}
			if predicateType != tt.predicateType {
				t.Errorf("predicate type = %q, want %q", predicateType, tt.predicateType)
			}
			if kind := ResolveKind(b, v.Statement); kind != tt.kind {
				t.Errorf("ResolveKind = %q, want %q", kind, tt.kind)
			}

			_, err = cosignKeyring(t).VerifyBundle(b, appDigest)
			if !errors.Is(err, ErrSubjectMismatch) {
				t.Errorf("other subject: err = %v, want ErrSubjectMismatch", err)
			}
			_, err = otherKeyring(t).VerifyBundle(b, tt.subject)
			if !errors.Is(err, ErrUntrusted) {
				t.Errorf("untrusted key: err = %v, want ErrUntrusted", err)
			}
		})
	}
}

func TestVerifyBundleTamperedSignature(t *testing.T) {
	b, err := ParseBundle(readVector(t, "cosign-v3-image-sign-bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	b.Envelope.Payload = append([]byte(nil), b.Envelope.Payload...)
	b.Envelope.Payload = []byte(strings.Replace(string(b.Envelope.Payload), `"predicate":{}`, `"predicate":{"x":1}`, 1))
	_, err = cosignKeyring(t).VerifyBundle(b, app3Digest)
	if !errors.Is(err, ErrSignatureInvalid) {
		t.Errorf("err = %v, want ErrSignatureInvalid", err)
	}
}

func TestVerifyLegacyAttestation(t *testing.T) {
	env, err := ParseEnvelope(readVector(t, "cosign-v2-legacy-att-spdx-dsse.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := cosignKeyring(t).VerifyEnvelope(env, appDigest)
	if err != nil {
		t.Fatalf("VerifyEnvelope: %v", err)
	}
	if v.Statement.Type != StatementTypeV01 || v.Statement.PredicateType != PredicateSPDX {
		t.Errorf("statement = %s %s", v.Statement.Type, v.Statement.PredicateType)
	}
	_, err = cosignKeyring(t).VerifyEnvelope(env, app2Digest)
	if !errors.Is(err, ErrSubjectMismatch) {
		t.Errorf("other subject: err = %v, want ErrSubjectMismatch", err)
	}
}

func TestVerifyBlobSignatures(t *testing.T) {
	sig := string(readVector(t, "report.bin.sig"))
	if _, err := cosignKeyring(t).VerifyDigestSignature(sig, reportDigest); err != nil {
		t.Errorf("report.bin.sig: %v", err)
	}
	var old struct{ Base64Signature string }
	if err := json.Unmarshal(readVector(t, "report.bin.oldbundle.json"), &old); err != nil {
		t.Fatal(err)
	}
	if _, err := cosignKeyring(t).VerifyDigestSignature(old.Base64Signature, reportDigest); err != nil {
		t.Errorf("old bundle: %v", err)
	}
	_, err := cosignKeyring(t).VerifyDigestSignature(sig, appDigest)
	if !errors.Is(err, ErrUntrusted) {
		t.Errorf("other file: err = %v, want ErrUntrusted", err)
	}
}

func TestParseBundleRejects(t *testing.T) {
	valid := string(readVector(t, "cosign-v3-image-sign-bundle.json"))
	tests := []struct {
		name   string
		bundle string
		want   error
		text   string
	}{
		{"wrong media type", strings.Replace(valid, "bundle.v0.3+json", "bundle.v9+json", 1), ErrMalformed, "is not a Sigstore bundle media type"},
		{"not JSON", "{", ErrMalformed, "Sigstore bundle"},
		{"no content", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}}}`, ErrMalformed, "neither messageSignature nor dsseEnvelope"},
		{"no key material", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"messageSignature":{}}`, ErrMalformed, "neither a public key hint nor a certificate"},
		{"bad digest algorithm", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"messageSignature":{"messageDigest":{"algorithm":"MD5","digest":"AA=="},"signature":"AA=="}}`, ErrMalformed, "MD5"},
		{"malformed envelope", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"x"}},"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}}`, ErrMalformed, "no signatures"},
		{"over 4 MiB", `{"mediaType":"` + strings.Repeat(" ", MaxDocumentBytes) + `"}`, ErrTooLarge, "4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBundle([]byte(tt.bundle))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to mention %q", err, tt.text)
			}
		})
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	statement := base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"p"}`))
	tests := []struct {
		name     string
		envelope string
		text     string
	}{
		{"not JSON", "[", "malformed DSSE envelope"},
		{"trailing data", `{"payloadType":"t","payload":"e30=","signatures":[{"sig":"AA=="}]} x`, "trailing data"},
		{"no payload type", `{"payload":"e30=","signatures":[{"sig":"AA=="}]}`, "payloadType is missing"},
		{"payload not base64", `{"payloadType":"t","payload":"%%%","signatures":[{"sig":"AA=="}]}`, "payload is missing or not base64"},
		{"no signatures", `{"payloadType":"t","payload":"` + statement + `"}`, "no signatures"},
		{"empty signature", `{"payloadType":"t","payload":"` + statement + `","signatures":[{"sig":""}]}`, "signature 0 is missing"},
		{"over 4 MiB", `{"payloadType":"t","payload":"` + strings.Repeat("A", MaxDocumentBytes) + `"}`, "4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tt.envelope))
			if err == nil {
				t.Fatal("ParseEnvelope accepted the envelope")
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to mention %q", err, tt.text)
			}
		})
	}
}

func TestParseStatementRejects(t *testing.T) {
	tests := []struct {
		name      string
		statement string
		text      string
	}{
		{"unknown type", `{"_type":"https://in-toto.io/Statement/v2","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"p"}`, "_type"},
		{"no subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"p"}`, "no subject"},
		{"subject without digest", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x"}],"predicateType":"p"}`, "subject 0 has no digest"},
		{"no predicate type", `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"ab"}}]}`, "predicateType is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStatement([]byte(tt.statement))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %v, want ErrMalformed mentioning %q", err, tt.text)
			}
		})
	}
	env := &Envelope{PayloadType: "text/plain", Payload: []byte("{}")}
	if _, err := StatementFromEnvelope(env); err == nil || !strings.Contains(err.Error(), "text/plain") {
		t.Errorf("wrong payload type: err = %v", err)
	}
}
