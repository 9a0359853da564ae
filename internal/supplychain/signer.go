package supplychain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/cofferhq/coffer/internal/digest"
)

// Signer signs on the server's behalf. Implementations may keep the
// private key outside the process, such as in a KMS.
type Signer interface {
	// PublicKey returns the public key that verifies the signatures.
	PublicKey() crypto.PublicKey
	// SignMessage signs message as cosign does for the key type: ECDSA
	// over its SHA-256, Ed25519 over the message itself.
	SignMessage(message []byte) ([]byte, error)
	// SignDigest signs a precomputed SHA-256 digest, as cosign sign-blob
	// does. It fails for key types that cannot sign a digest.
	SignDigest(sum []byte) ([]byte, error)
}

// ErrDigestSigning reports a key that cannot sign a precomputed digest.
var ErrDigestSigning = errors.New("the key type cannot sign a precomputed digest")

// keySigner signs with an in-memory ECDSA P-256 or Ed25519 private key.
type keySigner struct{ key crypto.Signer }

// LoadSigner reads a PEM private key file: PKCS #8 ("PRIVATE KEY") with an
// ECDSA P-256 or Ed25519 key, or SEC 1 ("EC PRIVATE KEY") with a P-256
// key. Encrypted keys, such as cosign.key, need ParseSigner with a
// password.
func LoadSigner(path string) (Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	return ParseSigner(path, data, nil)
}

// ParseSigner decodes the PEM private key of file name: the forms that
// LoadSigner reads, or a cosign encrypted key (see DecryptCosignKey), for
// which it calls password. A nil password rejects encrypted keys.
func ParseSigner(name string, data []byte, password func() ([]byte, error)) (Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("signing key %s: no PEM block", name)
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case PEMTypeEncryptedSigstoreKey, PEMTypeEncryptedCosignKey:
		if password == nil {
			return nil, fmt.Errorf("signing key %s is encrypted; give its password or decrypt it first", name)
		}
		var secret []byte
		if secret, err = password(); err == nil {
			key, err = DecryptCosignKey(data, secret)
		}
	default:
		return nil, fmt.Errorf("signing key %s: PEM block type %q is not PRIVATE KEY, EC PRIVATE KEY or %s", name, block.Type, PEMTypeEncryptedSigstoreKey)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", name, err)
	}
	return NewSigner(key)
}

// NewSigner returns a Signer for an ECDSA P-256 or Ed25519 private key.
func NewSigner(key any) (Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("signing key: curve %s is not P-256", k.Curve.Params().Name)
		}
		return keySigner{k}, nil
	case ed25519.PrivateKey:
		return keySigner{k}, nil
	}
	return nil, fmt.Errorf("signing key: type %T is not ECDSA P-256 or Ed25519", key)
}

func (s keySigner) PublicKey() crypto.PublicKey { return s.key.Public() }

func (s keySigner) SignMessage(message []byte) ([]byte, error) {
	if _, ok := s.key.(ed25519.PrivateKey); ok {
		return s.key.Sign(rand.Reader, message, crypto.Hash(0))
	}
	sum := sha256.Sum256(message)
	return s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
}

func (s keySigner) SignDigest(sum []byte) ([]byte, error) {
	if _, ok := s.key.(ed25519.PrivateKey); ok {
		return nil, ErrDigestSigning
	}
	return s.key.Sign(rand.Reader, sum, crypto.SHA256)
}

// PublicKeyPEM returns the signer's public key as a PEM "PUBLIC KEY"
// block, the form that trust stores take, and its cosign key hint.
func PublicKeyPEM(s Signer) (pemData []byte, hint string, err error) {
	der, err := x509.MarshalPKIXPublicKey(s.PublicKey())
	if err != nil {
		return nil, "", fmt.Errorf("encode signing public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), base64.StdEncoding.EncodeToString(sum[:]), nil
}

// NewSimpleSigningPayload returns cosign's legacy simple-signing payload
// for the manifest d of dockerReference ("registry.example/demo/app").
func NewSimpleSigningPayload(dockerReference string, d digest.Digest) ([]byte, error) {
	var raw struct {
		simpleSigningJSON
		Optional map[string]string `json:"optional"`
	}
	raw.Critical.Identity.DockerReference = dockerReference
	raw.Critical.Image.DockerManifestDigest = string(d)
	raw.Critical.Type = simpleSigningType
	return json.Marshal(raw)
}

// NewBlobBundle signs the SHA-256 digest d of a file as cosign sign-blob
// --bundle does with an ECDSA key and returns the Sigstore bundle (v0.3,
// message signature, no transparency log entry). An Ed25519 key cannot
// sign a digest; use NewContentBundle for it.
func NewBlobBundle(s Signer, d digest.Digest) ([]byte, error) {
	if d.Algorithm() != digest.Canonical {
		return nil, fmt.Errorf("sign %s: only SHA-256 digests can be signed as a blob", d)
	}
	sum, err := hex.DecodeString(d.Encoded())
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", d, err)
	}
	sig, err := s.SignDigest(sum)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", d, err)
	}
	return messageSignatureBundle(s, sum, sig)
}

// NewContentBundle signs a file's content as cosign sign-blob --bundle
// does, for any key type: ECDSA over the content's SHA-256, Ed25519 over
// the content itself. The bundle names the content's SHA-256 either way.
func NewContentBundle(s Signer, content []byte) ([]byte, error) {
	sum := sha256.Sum256(content)
	sig, err := s.SignMessage(content)
	if err != nil {
		return nil, fmt.Errorf("sign sha256:%x: %w", sum, err)
	}
	return messageSignatureBundle(s, sum[:], sig)
}

// messageSignatureBundle returns the Sigstore bundle v0.3 of a message
// signature sig over a file whose SHA-256 is sum.
func messageSignatureBundle(s Signer, sum, sig []byte) ([]byte, error) {
	_, hint, err := PublicKeyPEM(s)
	if err != nil {
		return nil, err
	}
	bundle := map[string]any{
		"mediaType":            MediaTypeSigstoreBundleV03,
		"verificationMaterial": map[string]any{"publicKey": map[string]string{"hint": hint}},
		"messageSignature": map[string]any{
			"messageDigest": map[string]string{"algorithm": "SHA2_256", "digest": base64.StdEncoding.EncodeToString(sum)},
			"signature":     base64.StdEncoding.EncodeToString(sig),
		},
	}
	return json.Marshal(bundle)
}

// IsEd25519 reports whether s signs with an Ed25519 key, which signs the
// whole content rather than its digest.
func IsEd25519(s Signer) bool {
	_, ok := s.PublicKey().(ed25519.PublicKey)
	return ok
}
