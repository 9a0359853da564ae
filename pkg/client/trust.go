package client

import (
	"context"
	"net/http"
	"net/url"
)

// TrustStatus is the supply-chain status of a digest or of an object's
// current content.
type TrustStatus struct {
	Digest string `json:"digest"`
	// Signed is set when any signature names the digest; Verified when at
	// least one of them verified against a trust store.
	Signed       bool               `json:"signed"`
	Verified     bool               `json:"verified"`
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
	Repository string `json:"repository"`
	Manifest   string `json:"manifest"`
	Tag        string `json:"tag,omitempty"`
	Layer      string `json:"layer"`
}

// TrustSignature is one signature and its verification result.
type TrustSignature struct {
	TrustSource
	Tool       string   `json:"tool"`
	Format     string   `json:"format"`
	Verified   bool     `json:"verified"`
	Signer     string   `json:"signer,omitempty"`
	TrustStore string   `json:"trust_store,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// TrustSBOM is one SBOM, attached on its own or as an attestation.
type TrustSBOM struct {
	TrustSource
	Format      string `json:"format"`
	SpecVersion string `json:"spec_version,omitempty"`
	Packages    int    `json:"packages"`
	Valid       bool   `json:"valid"`
	Attested    bool   `json:"attested"`
	Verified    bool   `json:"verified"`
	Error       string `json:"error,omitempty"`
}

// TrustAttestation is one in-toto attestation and its verification result.
type TrustAttestation struct {
	TrustSource
	Tool          string `json:"tool,omitempty"`
	Format        string `json:"format"`
	PredicateType string `json:"predicate_type,omitempty"`
	StatementType string `json:"statement_type,omitempty"`
	Verified      bool   `json:"verified"`
	Signer        string `json:"signer,omitempty"`
	TrustStore    string `json:"trust_store,omitempty"`
	Error         string `json:"error,omitempty"`
}

// AttachmentStatus is one attachment of an object in its trust status.
// Current is set when it was made for the object's current content;
// otherwise Error says why it does not count.
type AttachmentStatus struct {
	Attachment
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
