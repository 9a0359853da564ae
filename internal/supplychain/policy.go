package supplychain

import (
	"fmt"
	"strings"
)

// Enforcement modes of a Policy.
const (
	// ModeEnforce rejects a pull or download that the policy does not allow.
	ModeEnforce = "enforce"
	// ModeAudit serves it and records the decision.
	ModeAudit = "audit"
)

// Policy is the set of requirements that a trust store places on the manifests and objects in its
// scope before they are pulled or downloaded.
type Policy struct {
	// Mode is enforce or audit.
	Mode string `json:"mode"`
	// RequireSignature requires a signature that verifies with this trust
	// store.
	RequireSignature bool `json:"require_signature,omitempty"`
	// RequireSBOM requires a valid SBOM, attached or attested.
	RequireSBOM bool `json:"require_sbom,omitempty"`
	// RequireAttestations lists predicate types, each of which needs an
	// attestation that verifies with this trust store.
	RequireAttestations []string `json:"require_attestations,omitempty"`
	// ExemptPrincipals are principals, as the audit record names them,
	// whose requests the policy does not check.
	ExemptPrincipals []string `json:"exempt_principals,omitempty"`
}

// validate checks the policy's mode and that it requires something.
func (p *Policy) validate() error {
	if p.Mode != ModeEnforce && p.Mode != ModeAudit {
		return fmt.Errorf("policy.mode %q is invalid: expected %q or %q", p.Mode, ModeEnforce, ModeAudit)
	}
	if !p.RequireSignature && !p.RequireSBOM && len(p.RequireAttestations) == 0 {
		return fmt.Errorf("policy requires nothing: set require_signature, require_sbom or require_attestations")
	}
	for i, predicate := range p.RequireAttestations {
		if strings.TrimSpace(predicate) == "" {
			return fmt.Errorf("policy.require_attestations[%d] is empty", i)
		}
	}
	return nil
}

// exempts reports whether principal is exempt from the policy.
func (p *Policy) exempts(principal string) bool {
	for _, exempt := range p.ExemptPrincipals {
		if principal != "" && exempt == principal {
			return true
		}
	}
	return false
}

// missing returns what status lacks for the policy of trust store
// storeName, one phrase per requirement, or nil when nothing is missing.
func (p *Policy) missing(storeName string, status *Status) []string {
	var out []string
	if p.RequireSignature && !hasVerifiedSignature(status, storeName) {
		out = append(out, "a signature verified by trust store "+storeName+signatureFailures(status))
	}
	if p.RequireSBOM && !hasValidSBOM(status) {
		out = append(out, "a valid SBOM")
	}
	for _, predicate := range p.RequireAttestations {
		if !hasVerifiedAttestation(status, storeName, predicate) {
			out = append(out, "an attestation of predicate type "+predicate+" verified by trust store "+storeName)
		}
	}
	return out
}

func hasVerifiedSignature(status *Status, storeName string) bool {
	for _, sig := range status.Signatures {
		if sig.Verified && sig.TrustStore == storeName {
			return true
		}
	}
	return false
}

// signatureFailures explains why the signatures present did not count.
func signatureFailures(status *Status) string {
	if len(status.Signatures) == 0 {
		return " (the digest has no signature)"
	}
	var reasons []string
	for _, sig := range status.Signatures {
		if sig.Error != "" {
			reasons = append(reasons, sig.Error)
		} else if sig.Verified {
			reasons = append(reasons, "verified by trust store "+sig.TrustStore+", which this policy does not name")
		}
	}
	return fmt.Sprintf(" (%d signatures, none verified by it: %s)", len(status.Signatures), strings.Join(reasons, "; "))
}

func hasValidSBOM(status *Status) bool {
	for _, sbom := range status.SBOMs {
		if sbom.Valid && (!sbom.Attested || sbom.Verified) {
			return true
		}
	}
	return false
}

func hasVerifiedAttestation(status *Status, storeName, predicate string) bool {
	for _, att := range status.Attestations {
		if att.Verified && att.TrustStore == storeName && att.PredicateType == predicate {
			return true
		}
	}
	return false
}
