package supplychain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// PublicKey is a trusted cosign public key.
type PublicKey struct {
	// Name identifies the key in results, e.g. "release-2026".
	Name string
	Key  crypto.PublicKey
	// Hint is base64(SHA-256(DER SubjectPublicKeyInfo)), the value cosign
	// writes as verificationMaterial.publicKey.hint in a bundle.
	Hint string
}

// ParsePublicKey decodes a PEM "PUBLIC KEY" block (ECDSA, RSA or Ed25519),
// as `cosign generate-key-pair` writes it to cosign.pub.
func ParsePublicKey(name string, pemData []byte) (PublicKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "PUBLIC KEY" {
		return PublicKey{}, fmt.Errorf("public key %q: expected a PEM block of type PUBLIC KEY", name)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return PublicKey{}, fmt.Errorf("public key %q: %w", name, err)
	}
	switch key.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
	default:
		return PublicKey{}, fmt.Errorf("public key %q: type %T is not ECDSA, RSA or Ed25519", name, key)
	}
	sum := sha256.Sum256(block.Bytes)
	return PublicKey{Name: name, Key: key, Hint: base64.StdEncoding.EncodeToString(sum[:])}, nil
}

var errNoMatch = errors.New("signature does not verify")

// verifyMessage checks sig over message with key, hashing the message as
// Sigstore does for the key type: SHA-256 for P-256 and RSA, SHA-384 for
// P-384, SHA-512 for P-521, and none for Ed25519.
func verifyMessage(key crypto.PublicKey, message, sig []byte) error {
	if k, ok := key.(ed25519.PublicKey); ok {
		if ed25519.Verify(k, message, sig) {
			return nil
		}
		return errNoMatch
	}
	h := hashFor(key)
	hasher := h.New()
	hasher.Write(message)
	return verifyDigest(key, h, hasher.Sum(nil), sig)
}

// verifyDigest checks an ASN.1 ECDSA or an RSA (PKCS #1 v1.5 or PSS)
// signature over a precomputed digest.
func verifyDigest(key crypto.PublicKey, h crypto.Hash, sum, sig []byte) error {
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if ecdsa.VerifyASN1(k, sum, sig) {
			return nil
		}
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, h, sum, sig) == nil {
			return nil
		}
		if rsa.VerifyPSS(k, h, sum, sig, nil) == nil {
			return nil
		}
	case ed25519.PublicKey:
		return fmt.Errorf("%w: an Ed25519 key cannot verify a signature over a precomputed digest", ErrUnsupported)
	}
	return errNoMatch
}

func hashFor(key crypto.PublicKey) crypto.Hash {
	if k, ok := key.(*ecdsa.PublicKey); ok {
		switch k.Curve {
		case elliptic.P384():
			return crypto.SHA384
		case elliptic.P521():
			return crypto.SHA512
		}
	}
	return crypto.SHA256
}
