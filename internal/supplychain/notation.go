package supplychain

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
)

// VerificationLevel is a Notary Project trust policy level. It decides
// which checks fail a verification and which only add a warning.
type VerificationLevel string

// Verification levels, as in notation's trustpolicy.json.
const (
	// LevelStrict enforces every check.
	LevelStrict VerificationLevel = "strict"
	// LevelPermissive enforces integrity and authenticity and only warns
	// about an expired signature or certificate.
	LevelPermissive VerificationLevel = "permissive"
	// LevelAudit enforces integrity and only warns about the rest.
	LevelAudit VerificationLevel = "audit"
	// LevelSkip does not verify.
	LevelSkip VerificationLevel = "skip"
)

// ParseVerificationLevel checks a level name; empty means strict.
func ParseVerificationLevel(s string) (VerificationLevel, error) {
	switch level := VerificationLevel(s); level {
	case "":
		return LevelStrict, nil
	case LevelStrict, LevelPermissive, LevelAudit, LevelSkip:
		return level, nil
	}
	return "", fmt.Errorf("verification level %q is not strict, permissive, audit or skip", s)
}

// NotationPolicy is the subset of a Notary Project trust policy that Coffer
// applies to one scope. Revocation checks (OCSP, CRL) and timestamping
// authorities are not implemented, so a signing time is taken from the
// signed attributes.
type NotationPolicy struct {
	Level VerificationLevel
	// TrustAnchors are the CA (or self-signed) certificates that a
	// signing certificate chain must lead to.
	TrustAnchors []*x509.Certificate
	// TrustedIdentities are "*" or "x509.subject: <DN>" values. A signing
	// certificate matches a DN when its subject has every attribute the DN
	// lists, with equal values.
	TrustedIdentities []string
}

// Target is the artifact a signature must sign. MediaType and Size are
// compared when they are set.
type Target struct {
	Digest    digest.Digest
	MediaType string
	Size      int64
}

// NotationResult is the outcome of a notation verification that passed
// the policy's enforced checks.
type NotationResult struct {
	// Signer is the signing certificate's subject DN.
	Signer      string
	SigningTime time.Time
	// Warnings lists the checks that failed but that the level only logs.
	Warnings []string
	// Skipped is set when the policy level is skip.
	Skipped bool
}

// VerifyNotation verifies a notation signature envelope (media type
// application/jose+json or application/cose) for target at time now.
func VerifyNotation(mediaType string, envelope []byte, target Target, policy NotationPolicy, now time.Time) (*NotationResult, error) {
	if policy.Level == LevelSkip {
		return &NotationResult{Skipped: true}, nil
	}
	if err := checkSize("notation signature envelope", len(envelope)); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(envelope)) == 0 {
		return nil, fmt.Errorf("%w notation signature: the envelope is empty", ErrMalformed)
	}
	var (
		env *notationEnvelope
		err error
	)
	switch BaseMediaType(mediaType) {
	case MediaTypeJWS:
		env, err = parseJWS(envelope)
	case MediaTypeCOSE:
		env, err = parseCOSE(envelope)
	default:
		return nil, fmt.Errorf("%w notation signature: media type %q is neither %s nor %s", ErrMalformed, mediaType, MediaTypeJWS, MediaTypeCOSE)
	}
	if err != nil {
		return nil, fmt.Errorf("notation signature: %w", err)
	}
	if err := checkTargetArtifact(env.Payload, target); err != nil {
		return nil, fmt.Errorf("notation signature: %w", err)
	}

	leaf := env.Chain[0]
	result := &NotationResult{Signer: leaf.Subject.String(), SigningTime: env.SigningTime}
	check := func(enforced bool, err error) error {
		if err == nil {
			return nil
		}
		if enforced {
			return fmt.Errorf("notation signature by %q: %w", result.Signer, err)
		}
		result.Warnings = append(result.Warnings, err.Error())
		return nil
	}
	authenticity := policy.Level == LevelStrict || policy.Level == LevelPermissive
	if err := check(authenticity, policy.checkAuthenticity(env)); err != nil {
		return nil, err
	}
	if err := check(policy.Level == LevelStrict, checkValidity(env, now)); err != nil {
		return nil, err
	}
	return result, nil
}

// checkTargetArtifact compares the signed payload's targetArtifact with the
// subject.
func checkTargetArtifact(payload []byte, target Target) error {
	var p struct {
		TargetArtifact *struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
			Size      int64  `json:"size"`
		} `json:"targetArtifact"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.TargetArtifact == nil {
		return fmt.Errorf("%w: the payload has no targetArtifact", ErrMalformed)
	}
	signed := p.TargetArtifact
	if digest.Digest(signed.Digest) != target.Digest {
		return fmt.Errorf("signature for %s: %w %s", signed.Digest, ErrSubjectMismatch, target.Digest)
	}
	if target.MediaType != "" && signed.MediaType != target.MediaType {
		return fmt.Errorf("signature for media type %s: %w with media type %s", signed.MediaType, ErrSubjectMismatch, target.MediaType)
	}
	if target.Size != 0 && signed.Size != target.Size {
		return fmt.Errorf("signature for %d bytes: %w of %d bytes", signed.Size, ErrSubjectMismatch, target.Size)
	}
	return nil
}

// checkAuthenticity checks that the chain leads to a trust anchor, valid at
// signing time, and that the signer is a trusted identity.
func (p *NotationPolicy) checkAuthenticity(env *notationEnvelope) error {
	if len(p.TrustAnchors) == 0 {
		return fmt.Errorf("%w: the trust store has no notation trust anchor for this subject", ErrUntrusted)
	}
	roots := x509.NewCertPool()
	for _, anchor := range p.TrustAnchors {
		roots.AddCert(anchor)
	}
	intermediates := x509.NewCertPool()
	for _, cert := range env.Chain[1:] {
		intermediates.AddCert(cert)
	}
	_, err := env.Chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   env.SigningTime,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil {
		return fmt.Errorf("%w: the certificate chain does not lead to a trust anchor: %w", ErrUntrusted, err)
	}
	if !p.trustsIdentity(env.Chain[0]) {
		return fmt.Errorf("%w: signer %q is not a trusted identity", ErrUntrusted, env.Chain[0].Subject.String())
	}
	return nil
}

func (p *NotationPolicy) trustsIdentity(leaf *x509.Certificate) bool {
	subject := distinguishedName(leaf)
	for _, identity := range p.TrustedIdentities {
		if identity == "*" {
			return true
		}
		dn, ok := strings.CutPrefix(identity, "x509.subject:")
		if ok && dnSubset(parseDN(dn), subject) {
			return true
		}
	}
	return false
}

// checkValidity checks that the chain and the signature have not expired:
// without a timestamp countersignature, the certificates must be valid now.
func checkValidity(env *notationEnvelope, now time.Time) error {
	if !env.Expiry.IsZero() && now.After(env.Expiry) {
		return fmt.Errorf("the signature expired at %s", env.Expiry.Format(time.RFC3339))
	}
	for _, cert := range env.Chain {
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return fmt.Errorf("certificate %q is valid only from %s to %s", cert.Subject.String(), cert.NotBefore.Format(time.RFC3339), cert.NotAfter.Format(time.RFC3339))
		}
	}
	return nil
}

var attributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.5": "SERIALNUMBER", "2.5.4.6": "C", "2.5.4.7": "L",
	"2.5.4.8": "ST", "2.5.4.9": "STREET", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.17": "POSTALCODE", "1.2.840.113549.1.9.1": "E",
}

func distinguishedName(cert *x509.Certificate) map[string]string {
	dn := make(map[string]string)
	for _, attribute := range cert.Subject.Names {
		name, ok := attributeNames[asn1.ObjectIdentifier(attribute.Type).String()]
		if !ok {
			continue
		}
		if value, ok := attribute.Value.(string); ok {
			dn[name] = value
		}
	}
	return dn
}

// parseDN reads "C=US, ST=WA, O=Notary, CN=demo.example". Escaped commas
// are not supported.
func parseDN(s string) map[string]string {
	dn := make(map[string]string)
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		dn[strings.ToUpper(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
	return dn
}

func dnSubset(want, have map[string]string) bool {
	if len(want) == 0 {
		return false
	}
	for name, value := range want {
		if have[name] != value {
			return false
		}
	}
	return true
}

// ParseCertificates decodes one or more PEM CERTIFICATE blocks.
func ParseCertificates(name string, pemData []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %q: %w", name, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("certificate %q: expected at least one PEM block of type CERTIFICATE", name)
	}
	return certs, nil
}
