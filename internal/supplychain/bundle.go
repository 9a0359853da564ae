package supplychain

import (
	"encoding/base64"
	"fmt"
)

// Bundle is a Sigstore bundle (v0.1 to v0.3) as cosign writes it. Only the
// fields needed for verification are kept.
type Bundle struct {
	MediaType string
	// PublicKeyHint is base64(SHA-256(DER SubjectPublicKeyInfo)) for a
	// key-signed bundle; cosign writes it and a trust store can index
	// keys by it.
	PublicKeyHint string
	// Certificates is the signing certificate and its chain (DER), leaf
	// first, for keyless bundles.
	Certificates [][]byte
	// HasTransparencyLog reports whether the bundle carries tlog entries.
	HasTransparencyLog bool
	// Exactly one of MessageSignature and Envelope is set.
	MessageSignature *MessageSignature
	Envelope         *Envelope
}

// MessageSignature is a signature over a digest of the artifact (cosign
// sign-blob).
type MessageSignature struct {
	Algorithm string // "SHA2_256", "SHA2_384" or "SHA2_512"
	Digest    []byte
	Signature []byte
}

type bundleJSON struct {
	MediaType            string `json:"mediaType"`
	VerificationMaterial struct {
		PublicKey *struct {
			Hint string `json:"hint"`
		} `json:"publicKey"`
		Certificate *struct {
			RawBytes string `json:"rawBytes"`
		} `json:"certificate"`
		X509CertificateChain *struct {
			Certificates []struct {
				RawBytes string `json:"rawBytes"`
			} `json:"certificates"`
		} `json:"x509CertificateChain"`
		TlogEntries []any `json:"tlogEntries"`
	} `json:"verificationMaterial"`
	MessageSignature *struct {
		MessageDigest struct {
			Algorithm string `json:"algorithm"`
			Digest    string `json:"digest"`
		} `json:"messageDigest"`
		Signature string `json:"signature"`
	} `json:"messageSignature"`
	DSSEEnvelope *envelopeJSON `json:"dsseEnvelope"`
}

// ParseBundle decodes a Sigstore bundle and checks its media type and that
// it holds exactly one of a message signature and a DSSE envelope.
func ParseBundle(data []byte) (*Bundle, error) {
	if err := checkSize("Sigstore bundle", len(data)); err != nil {
		return nil, err
	}
	var raw bundleJSON
	if err := decodeStrictJSON(data, &raw); err != nil {
		return nil, fmt.Errorf("%w Sigstore bundle: %w", ErrMalformed, err)
	}
	if !isSigstoreBundle(raw.MediaType) {
		return nil, fmt.Errorf("%w Sigstore bundle: mediaType %q is not a Sigstore bundle media type such as %s", ErrMalformed, raw.MediaType, MediaTypeSigstoreBundleV03)
	}
	b := &Bundle{MediaType: raw.MediaType, HasTransparencyLog: len(raw.VerificationMaterial.TlogEntries) > 0}
	if err := raw.decodeMaterial(b); err != nil {
		return nil, err
	}

	switch {
	case raw.MessageSignature != nil && raw.DSSEEnvelope != nil:
		return nil, fmt.Errorf("%w Sigstore bundle: it has both messageSignature and dsseEnvelope", ErrMalformed)
	case raw.MessageSignature != nil:
		ms, err := raw.decodeMessageSignature()
		if err != nil {
			return nil, err
		}
		b.MessageSignature = ms
	case raw.DSSEEnvelope != nil:
		env, err := raw.DSSEEnvelope.envelope()
		if err != nil {
			return nil, fmt.Errorf("Sigstore bundle: %w", err)
		}
		b.Envelope = env
	default:
		return nil, fmt.Errorf("%w Sigstore bundle: it has neither messageSignature nor dsseEnvelope", ErrMalformed)
	}
	return b, nil
}

func (raw *bundleJSON) decodeMaterial(b *Bundle) error {
	material := raw.VerificationMaterial
	if material.PublicKey != nil {
		b.PublicKeyHint = material.PublicKey.Hint
	}
	var encoded []string
	if material.Certificate != nil {
		encoded = append(encoded, material.Certificate.RawBytes)
	}
	if material.X509CertificateChain != nil {
		for _, c := range material.X509CertificateChain.Certificates {
			encoded = append(encoded, c.RawBytes)
		}
	}
	for i, e := range encoded {
		der, err := base64.StdEncoding.DecodeString(e)
		if err != nil || len(der) == 0 {
			return fmt.Errorf("%w Sigstore bundle: certificate %d is missing or not base64", ErrMalformed, i)
		}
		b.Certificates = append(b.Certificates, der)
	}
	if b.PublicKeyHint == "" && len(b.Certificates) == 0 {
		return fmt.Errorf("%w Sigstore bundle: verificationMaterial has neither a public key hint nor a certificate", ErrMalformed)
	}
	return nil
}

func (raw *bundleJSON) decodeMessageSignature() (*MessageSignature, error) {
	in := raw.MessageSignature
	switch in.MessageDigest.Algorithm {
	case "SHA2_256", "SHA2_384", "SHA2_512":
	default:
		return nil, fmt.Errorf("%w Sigstore bundle: message digest algorithm %q is not SHA2_256, SHA2_384 or SHA2_512", ErrMalformed, in.MessageDigest.Algorithm)
	}
	sum, err := base64.StdEncoding.DecodeString(in.MessageDigest.Digest)
	if err != nil || len(sum) == 0 {
		return nil, fmt.Errorf("%w Sigstore bundle: message digest is missing or not base64", ErrMalformed)
	}
	sig, err := base64.StdEncoding.DecodeString(in.Signature)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w Sigstore bundle: message signature is missing or not base64", ErrMalformed)
	}
	return &MessageSignature{Algorithm: in.MessageDigest.Algorithm, Digest: sum, Signature: sig}, nil
}
