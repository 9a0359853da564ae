package client

import (
	"context"
	"net/http"
	"net/url"
)

// TrustStatus is the supply-chain status of a digest or of an object's
// current content.
type TrustStatus struct {
	// Digest is the artifact the status describes, such as "sha256:…".
	Digest string `json:"digest"`
	// Signed is set when any signature names the digest; Verified when at
	// least one of them verified against a trust store.
	Signed   bool `json:"signed"`
	Verified bool `json:"verified"`
	// Signatures, SBOMs and Attestations list every supply-chain artifact
	// found for the digest, verified or not.
	Signatures   []TrustSignature   `json:"signatures"`
	SBOMs        []TrustSBOM        `json:"sboms"`
	Attestations []TrustAttestation `json:"attestations"`
	// Bucket, Key and Attachments are set by [Client.ObjectTrust].
	Bucket      string             `json:"bucket,omitempty"`
	Key         string             `json:"key,omitempty"`
	Attachments []AttachmentStatus `json:"attachments,omitempty"`
}

// TrustSource locates a supply-chain artifact in the registry.
type TrustSource struct {
	// Repository and Manifest name the manifest that carries the artifact.
	Repository string `json:"repository"`
	Manifest   string `json:"manifest"`
	// Tag is the legacy cosign tag (such as "sha256-….sig") the manifest
	// was found by, or empty for a referrer.
	Tag string `json:"tag,omitempty"`
	// Layer is the digest of the blob that holds the artifact.
	Layer string `json:"layer"`
}

// TrustSignature is one signature and its verification result.
type TrustSignature struct {
	TrustSource
	// Tool is the client that made the signature: "cosign" or "notation".
	Tool string `json:"tool"`
	// Format is the signature format, such as "cosign-simplesigning",
	// "sigstore-bundle", "notation-jws" or "notation-cose".
	Format   string `json:"format"`
	Verified bool   `json:"verified"`
	// Signer names the key ("<trust store>/<key>") or the certificate
	// subject that verified, and TrustStore the store it belongs to.
	Signer     string `json:"signer,omitempty"`
	TrustStore string `json:"trust_store,omitempty"`
	// Warnings are problems that did not stop the verification.
	Warnings []string `json:"warnings,omitempty"`
	// Error is the reason the signature did not verify.
	Error string `json:"error,omitempty"`
}

// TrustSBOM is one SBOM, attached on its own or as an attestation.
type TrustSBOM struct {
	TrustSource
	// Format is the SBOM format, such as "spdx-json", "cyclonedx-json" or
	// "cyclonedx-xml", and SpecVersion the version the document declares.
	Format      string `json:"format"`
	SpecVersion string `json:"spec_version,omitempty"`
	// Packages is the number of packages the SBOM lists.
	Packages int `json:"packages"`
	// Valid is set when the document passed validation. Otherwise Error
	// contains the reason.
	Valid bool `json:"valid"`
	// Attested is set for an SBOM carried in a signed attestation, and
	// Verified when that attestation verified.
	Attested bool   `json:"attested"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

// TrustAttestation is one in-toto attestation and its verification result.
type TrustAttestation struct {
	TrustSource
	// Tool is the client that made the attestation, such as "cosign".
	Tool string `json:"tool,omitempty"`
	// Format is the envelope format: "dsse", "sigstore-bundle" or
	// "in-toto-statement".
	Format string `json:"format"`
	// PredicateType and StatementType are the in-toto statement's
	// predicate type (such as "https://slsa.dev/provenance/v1") and _type.
	PredicateType string `json:"predicate_type,omitempty"`
	StatementType string `json:"statement_type,omitempty"`
	Verified      bool   `json:"verified"`
	// Signer and TrustStore name the key that verified, as in
	// [TrustSignature].
	Signer     string `json:"signer,omitempty"`
	TrustStore string `json:"trust_store,omitempty"`
	// Error is the reason the attestation did not verify.
	Error string `json:"error,omitempty"`
}

// AttachmentStatus is one attachment of an object in its trust status.
// Current is set when it was made for the object's current content;
// otherwise Error says why it does not count.
type AttachmentStatus struct {
	Attachment
	// Current is set when the attachment was made for the object's current
	// content. Otherwise Error contains the reason it does not count.
	Current bool   `json:"current"`
	Error   string `json:"error,omitempty"`
}

// ArtifactTrust returns the trust status of a digest that a manifest, an
// object or a referrer names.
func (c *Client) ArtifactTrust(ctx context.Context, digest string) (TrustStatus, error) {
	var out TrustStatus
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/artifacts/"+url.PathEscape(digest)+"/trust", nil, nil, &out)
	return out, err
}

// ObjectTrust returns the trust status of an object's current content and
// lists its attachments.
func (c *Client) ObjectTrust(ctx context.Context, bucket, key string) (TrustStatus, error) {
	var out TrustStatus
	path := "/api/v1/buckets/" + url.PathEscape(bucket) + "/objects/" + url.PathEscape(key) + "/trust"
	err := c.callJSON(ctx, http.MethodGet, path, nil, nil, &out)
	return out, err
}
