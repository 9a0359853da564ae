// Package supplychain recognises, parses and verifies the supply-chain
// artifacts that clients store through the registry: cosign signatures
// (legacy tags and OCI 1.1 referrers), Sigstore bundles, Notary Project
// (notation) signatures, SBOMs and in-toto attestations in DSSE envelopes.
// It does not depend on HTTP: callers pass manifests and blob contents, or
// the Catalog and BlobReader to read them through, and get back what they
// are, whether they verify against a trust store, and why not.
package supplychain

import (
	"mime"
	"strings"
)

// Media types and artifact types of the formats this package recognises.
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeEmptyJSON      = "application/vnd.oci.empty.v1+json"
	MediaTypeOCIImageConfig = "application/vnd.oci.image.config.v1+json"

	// cosign legacy signatures: the simple-signing payload layer and the
	// artifact types of cosign's experimental OCI 1.1 referrers mode.
	MediaTypeCosignSimpleSigning  = "application/vnd.dev.cosign.simplesigning.v1+json"
	ArtifactTypeCosignSignature   = "application/vnd.dev.cosign.artifact.sig.v1+json"
	ArtifactTypeCosignSBOM        = "application/vnd.dev.cosign.artifact.sbom.v1+json"
	ArtifactTypeCosignAttestation = "application/vnd.dev.cosign.artifact.att.v1+json"

	// Sigstore bundles. v0.3 has its own media type; v0.1 and v0.2 carry
	// the version as a parameter of MediaTypeSigstoreBundle.
	MediaTypeSigstoreBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
	MediaTypeSigstoreBundle    = "application/vnd.dev.sigstore.bundle+json"

	// Notary Project signatures.
	ArtifactTypeNotation = "application/vnd.cncf.notary.signature"
	MediaTypeJWS         = "application/jose+json"
	MediaTypeCOSE        = "application/cose"

	// DSSE envelopes and in-toto statements.
	MediaTypeDSSE   = "application/vnd.dsse.envelope.v1+json"
	MediaTypeInToto = "application/vnd.in-toto+json"

	// SBOM documents.
	MediaTypeSPDXJSON      = "application/spdx+json"
	MediaTypeSPDXJSONText  = "text/spdx+json" // cosign attach sbom
	MediaTypeSPDXTagValue  = "text/spdx"
	MediaTypeCycloneDXJSON = "application/vnd.cyclonedx+json"
	MediaTypeCycloneDXXML  = "application/vnd.cyclonedx+xml"
	MediaTypeSyftJSON      = "application/vnd.syft+json"
)

// Annotations that the signing tools write.
const (
	AnnotationCosignSignature     = "dev.cosignproject.cosign/signature"
	AnnotationCosignCertificate   = "dev.sigstore.cosign/certificate"
	AnnotationCosignChain         = "dev.sigstore.cosign/chain"
	AnnotationPredicateType       = "predicateType" // on cosign .att layers
	AnnotationBundleContent       = "dev.sigstore.bundle.content"
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationNotationThumbprints = "io.cncf.notary.x509chain.thumbprint#S256"
)

// Predicate types with a meaning of their own here.
const (
	// PredicateCosignSign marks a Sigstore bundle that is an image
	// signature rather than an attestation.
	PredicateCosignSign       = "https://sigstore.dev/cosign/sign/v1"
	PredicateSPDX             = "https://spdx.dev/Document"
	PredicateCycloneDX        = "https://cyclonedx.org/bom"
	PredicateSLSAProvenance02 = "https://slsa.dev/provenance/v0.2"
	PredicateSLSAProvenance1  = "https://slsa.dev/provenance/v1"
)

// BaseMediaType returns the media type without parameters, in lower case:
// "application/vnd.dev.sigstore.bundle+json;version=0.2" becomes
// "application/vnd.dev.sigstore.bundle+json". A value that does not parse
// is trimmed and lowered as it is, so it still compares unequal to every
// known type.
func BaseMediaType(mediaType string) string {
	base, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		base, _, _ = strings.Cut(mediaType, ";")
		return strings.ToLower(strings.TrimSpace(base))
	}
	return base
}

// isSigstoreBundle reports whether mediaType names a Sigstore bundle of any
// version.
func isSigstoreBundle(mediaType string) bool {
	switch BaseMediaType(mediaType) {
	case MediaTypeSigstoreBundleV03, MediaTypeSigstoreBundle:
		return true
	}
	return false
}
