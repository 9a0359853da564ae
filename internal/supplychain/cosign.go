package supplychain

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
)

// KeylessVerifier checks the certificate material of a keyless Sigstore
// bundle (Fulcio certificate, transparency log, timestamps) and returns the
// key that signed it and the signer's identity. Coffer verifies key-signed
// bundles offline; a keyless implementation plugs in here.
type KeylessVerifier interface {
	VerifyCertificate(b *Bundle, chain []*x509.Certificate) (key crypto.PublicKey, identity string, err error)
}

// Keyring verifies cosign signatures, Sigstore bundles and DSSE envelopes
// against trusted public keys.
type Keyring struct {
	Keys []PublicKey
	// Keyless verifies bundles that carry certificates instead of a key
	// hint. Nil rejects them with ErrUnsupported.
	Keyless KeylessVerifier
}

// Verified is the outcome of a successful verification.
type Verified struct {
	// Signer names the trusted key, or the certificate identity.
	Signer string
	// Statement is the in-toto statement that a DSSE signature covers.
	Statement *Statement
}

// VerifySimpleSigning checks a cosign legacy signature: sigB64 (the layer's
// dev.cosignproject.cosign/signature annotation) over the simple-signing
// payload, made by a trusted key, for subject.
func (k *Keyring) VerifySimpleSigning(payload []byte, sigB64 string, subject digest.Digest) (*Verified, error) {
	signed, err := ParseSimpleSigning(payload)
	if err != nil {
		return nil, err
	}
	if signed.ManifestDigest != subject {
		return nil, fmt.Errorf("cosign signature for %s: %w %s", signed.ManifestDigest, ErrSubjectMismatch, subject)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w cosign signature: the %s annotation is missing or not base64", ErrMalformed, AnnotationCosignSignature)
	}
	name, err := k.verifyWithAny("", func(key crypto.PublicKey) error { return verifyMessage(key, payload, sig) })
	if err != nil {
		return nil, fmt.Errorf("cosign signature: %w", err)
	}
	return &Verified{Signer: name}, nil
}

// VerifyBundle checks a Sigstore bundle for subject. A message signature
// must sign subject's own digest (cosign sign-blob over a file). A DSSE
// envelope must carry an in-toto statement whose subjects include subject
// (cosign sign and attest). The key is chosen by the bundle's public key
// hint when a trusted key has it.
func (k *Keyring) VerifyBundle(b *Bundle, subject digest.Digest) (*Verified, error) {
	keys, identity, err := k.bundleKeys(b)
	if err != nil {
		return nil, err
	}
	if b.MessageSignature != nil {
		ms := b.MessageSignature
		if ms.Algorithm != "SHA2_256" || subject.Algorithm() != digest.SHA256 || hex.EncodeToString(ms.Digest) != subject.Encoded() {
			return nil, fmt.Errorf("Sigstore bundle message signature over %s:%s: %w %s", ms.Algorithm, hex.EncodeToString(ms.Digest), ErrSubjectMismatch, subject)
		}
		name, err := keys.verifyWithAny(b.PublicKeyHint, func(key crypto.PublicKey) error {
			return verifyDigest(key, crypto.SHA256, ms.Digest, ms.Signature)
		})
		if err != nil {
			return nil, fmt.Errorf("Sigstore bundle: %w", err)
		}
		return &Verified{Signer: firstNonEmpty(identity, name)}, nil
	}
	v, err := keys.verifyEnvelope(b.Envelope, b.PublicKeyHint, subject)
	if err != nil {
		return nil, fmt.Errorf("Sigstore bundle: %w", err)
	}
	v.Signer = firstNonEmpty(identity, v.Signer)
	return v, nil
}

// VerifyBundleContent checks a Sigstore bundle against a file's content.
// Unlike VerifyBundle it also verifies Ed25519 message signatures, which
// sign the content itself and not its digest. A DSSE bundle is checked as
// VerifyBundle checks it, for the content's SHA-256.
func (k *Keyring) VerifyBundleContent(b *Bundle, content []byte) (*Verified, error) {
	sum := sha256.Sum256(content)
	subject := digest.Digest("sha256:" + hex.EncodeToString(sum[:]))
	if b.MessageSignature == nil {
		return k.VerifyBundle(b, subject)
	}
	keys, identity, err := k.bundleKeys(b)
	if err != nil {
		return nil, err
	}
	ms := b.MessageSignature
	if ms.Algorithm != "SHA2_256" || !bytes.Equal(ms.Digest, sum[:]) {
		return nil, fmt.Errorf("Sigstore bundle message signature over %s:%s: %w %s", ms.Algorithm, hex.EncodeToString(ms.Digest), ErrSubjectMismatch, subject)
	}
	name, err := keys.verifyWithAny(b.PublicKeyHint, func(key crypto.PublicKey) error {
		return verifyMessage(key, content, ms.Signature)
	})
	if err != nil {
		return nil, fmt.Errorf("Sigstore bundle: %w", err)
	}
	return &Verified{Signer: firstNonEmpty(identity, name)}, nil
}

// bundleKeys returns the keys that may have signed b: the trusted keys for
// a key-signed bundle, or the certificate's key checked by the keyless
// verifier.
func (k *Keyring) bundleKeys(b *Bundle) (*Keyring, string, error) {
	if len(b.Certificates) == 0 {
		return k, "", nil
	}
	if k.Keyless == nil {
		return nil, "", fmt.Errorf("Sigstore bundle signed with a certificate: %w: keyless verification is not configured", ErrUnsupported)
	}
	chain := make([]*x509.Certificate, 0, len(b.Certificates))
	for i, der := range b.Certificates {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, "", fmt.Errorf("%w Sigstore bundle: certificate %d: %w", ErrMalformed, i, err)
		}
		chain = append(chain, cert)
	}
	key, identity, err := k.Keyless.VerifyCertificate(b, chain)
	if err != nil {
		return nil, "", fmt.Errorf("Sigstore bundle certificate: %w", err)
	}
	return &Keyring{Keys: []PublicKey{{Name: identity, Key: key}}}, identity, nil
}

// VerifyDigestSignature checks a detached signature over a file whose
// SHA-256 is subject, as `cosign sign-blob --output-signature` writes it
// (base64) or as the base64Signature of its older bundle.
func (k *Keyring) VerifyDigestSignature(sigB64 string, subject digest.Digest) (*Verified, error) {
	if subject.Algorithm() != digest.SHA256 {
		return nil, fmt.Errorf("blob signature: %w: subject %s is not a SHA-256 digest", ErrUnsupported, subject)
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sigB64))
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w blob signature: it is missing or not base64", ErrMalformed)
	}
	sum, err := hex.DecodeString(subject.Encoded())
	if err != nil {
		return nil, fmt.Errorf("blob signature: subject %s: %w", subject, err)
	}
	name, err := k.verifyWithAny("", func(key crypto.PublicKey) error { return verifyDigest(key, crypto.SHA256, sum, sig) })
	if err != nil {
		return nil, fmt.Errorf("blob signature: %w", err)
	}
	return &Verified{Signer: name}, nil
}

// VerifyEnvelope checks a DSSE envelope holding an in-toto statement about
// subject, signed by a trusted key, as in cosign's legacy .att layers.
func (k *Keyring) VerifyEnvelope(env *Envelope, subject digest.Digest) (*Verified, error) {
	v, err := k.verifyEnvelope(env, "", subject)
	if err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	return v, nil
}

func (k *Keyring) verifyEnvelope(env *Envelope, hint string, subject digest.Digest) (*Verified, error) {
	statement, err := StatementFromEnvelope(env)
	if err != nil {
		return nil, err
	}
	if !statement.Covers(subject) {
		return nil, fmt.Errorf("in-toto statement about %s: %w %s", statement.subjectList(), ErrSubjectMismatch, subject)
	}
	pae := env.PAE()
	name, err := k.verifyWithAny(hint, func(key crypto.PublicKey) error {
		for _, s := range env.Signatures {
			if verifyMessage(key, pae, s.Signature) == nil {
				return nil
			}
		}
		return errNoMatch
	})
	if err != nil {
		return nil, err
	}
	return &Verified{Signer: name, Statement: statement}, nil
}

// verifyWithAny returns the name of the first trusted key for which check
// succeeds. Keys whose hint matches come first, so a bundle costs one
// signature check when its key is trusted.
func (k *Keyring) verifyWithAny(hint string, check func(crypto.PublicKey) error) (string, error) {
	if len(k.Keys) == 0 {
		return "", fmt.Errorf("%w: the trust store has no public key for this subject", ErrUntrusted)
	}
	ordered := make([]PublicKey, 0, len(k.Keys))
	for _, key := range k.Keys {
		if hint != "" && key.Hint == hint {
			ordered = append([]PublicKey{key}, ordered...)
		} else {
			ordered = append(ordered, key)
		}
	}
	var unsupported error
	for _, key := range ordered {
		err := check(key.Key)
		if err == nil {
			return key.Name, nil
		}
		if errors.Is(err, ErrUnsupported) {
			unsupported = err
		}
	}
	switch {
	case unsupported != nil && len(ordered) == 1:
		return "", unsupported
	case hint != "" && ordered[0].Hint == hint:
		return "", fmt.Errorf("%w: it does not verify with trusted key %q, which the key hint names", ErrSignatureInvalid, ordered[0].Name)
	}
	return "", fmt.Errorf("%w: made by none of the %d trusted public keys", ErrUntrusted, len(k.Keys))
}

func (s *Statement) subjectList() string {
	var b bytes.Buffer
	for i, subject := range s.Subject {
		if i > 0 {
			b.WriteString(", ")
		}
		if value, ok := subject.Digest[string(digest.SHA256)]; ok {
			b.WriteString(string(digest.SHA256) + ":" + value)
			continue
		}
		algorithms := slices.Sorted(maps.Keys(subject.Digest))
		b.WriteString(algorithms[0] + ":" + subject.Digest[algorithms[0]])
	}
	return b.String()
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
