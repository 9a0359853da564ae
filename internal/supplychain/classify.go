package supplychain

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
)

// Kind is the role of a supply-chain artifact: signature, attestation or SBOM.
type Kind string

// Kinds of supply-chain artifacts.
const (
	KindSignature   Kind = "signature"
	KindAttestation Kind = "attestation"
	KindSBOM        Kind = "sbom"
)

// Format is the encoding of one supply-chain artifact.
type Format string

// Formats this package recognises.
const (
	FormatCosignSimpleSigning Format = "cosign-simplesigning"
	FormatSigstoreBundle      Format = "sigstore-bundle"
	FormatNotationJWS         Format = "notation-jws"
	FormatNotationCOSE        Format = "notation-cose"
	FormatDSSE                Format = "dsse"
	FormatInTotoStatement     Format = "in-toto-statement"
	FormatSPDXJSON            Format = "spdx-json"
	FormatSPDXTagValue        Format = "spdx-tag-value"
	FormatCycloneDXJSON       Format = "cyclonedx-json"
	FormatCycloneDXXML        Format = "cyclonedx-xml"
	FormatSyftJSON            Format = "syft-json"
)

// Tools that produce the recognised forms. Generic SBOMs attached with oras
// or another client have no tool.
const (
	ToolCosign   = "cosign"
	ToolNotation = "notation"
)

// Descriptor is the subset of an OCI descriptor this package reads.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Data         []byte            `json:"data,omitempty"`
}

// Manifest is the subset of an OCI image manifest this package reads.
type Manifest struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       Descriptor        `json:"config"`
	Layers       []Descriptor      `json:"layers"`
	Subject      *Descriptor       `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

// ErrMalformed reports a document that does not parse as the format it
// claims to be.
var ErrMalformed = errors.New("malformed")

// ParseManifest decodes an image manifest. The registry has validated it
// already, so this only decodes the fields that classification needs.
func ParseManifest(content []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(content, &m); err != nil {
		return nil, fmt.Errorf("%w manifest: %w", ErrMalformed, err)
	}
	return &m, nil
}

// EffectiveArtifactType returns the manifest's artifactType or, when that
// is absent, its config media type, as the referrers API reports them.
// Notation's OCI 1.0 form and cosign's referrers mode set only the config
// media type.
func (m *Manifest) EffectiveArtifactType() string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return m.Config.MediaType
}

// Item is one supply-chain artifact held by one layer of a manifest. A
// cosign legacy .att manifest, for example, holds one DSSE item per layer.
type Item struct {
	Kind   Kind
	Format Format
	Tool   string // ToolCosign, ToolNotation or empty
	// Layer is the blob that holds the artifact.
	Layer      Descriptor
	LayerIndex int
	// PredicateType is the in-toto predicate type as the manifest declares
	// it. It is empty when only the blob's content gives it, and then Kind
	// is empty too for a Sigstore bundle.
	PredicateType string
}

// Classify returns the supply-chain items that m carries, in layer order,
// or nil for an ordinary image or artifact manifest. Media types may carry
// parameters.
func Classify(m *Manifest) []Item {
	artifactType := BaseMediaType(m.EffectiveArtifactType())
	var items []Item
	for i, layer := range m.Layers {
		item, ok := classifyLayer(artifactType, m.Annotations, layer)
		if !ok {
			continue
		}
		item.Layer = layer
		item.LayerIndex = i
		items = append(items, item)
	}
	return items
}

func classifyLayer(artifactType string, annotations map[string]string, layer Descriptor) (Item, bool) {
	mediaType := BaseMediaType(layer.MediaType)
	switch {
	case mediaType == MediaTypeCosignSimpleSigning:
		return Item{Kind: KindSignature, Format: FormatCosignSimpleSigning, Tool: ToolCosign}, true
	case isSigstoreBundle(mediaType):
		return classifyBundle(annotations), true
	case mediaType == MediaTypeDSSE:
		item := Item{Kind: KindAttestation, Format: FormatDSSE, PredicateType: layer.Annotations[AnnotationPredicateType]}
		if _, ok := layer.Annotations[AnnotationCosignSignature]; ok {
			item.Tool = ToolCosign
		}
		return item, true
	case mediaType == MediaTypeInToto:
		return Item{Kind: KindAttestation, Format: FormatInTotoStatement}, true
	case artifactType == ArtifactTypeNotation && mediaType == MediaTypeJWS:
		return Item{Kind: KindSignature, Format: FormatNotationJWS, Tool: ToolNotation}, true
	case artifactType == ArtifactTypeNotation && mediaType == MediaTypeCOSE:
		return Item{Kind: KindSignature, Format: FormatNotationCOSE, Tool: ToolNotation}, true
	}
	if format, ok := sbomFormats[mediaType]; ok {
		item := Item{Kind: KindSBOM, Format: format}
		if artifactType == ArtifactTypeCosignSBOM {
			item.Tool = ToolCosign
		}
		return item, true
	}
	return Item{}, false
}

// classifyBundle distinguishes a bundle signature from a bundle attestation
// by the manifest annotations cosign writes. Without them the bundle's content
// decides (see ResolveKind).
func classifyBundle(annotations map[string]string) Item {
	item := Item{Format: FormatSigstoreBundle, Tool: ToolCosign, PredicateType: annotations[AnnotationBundlePredicateType]}
	switch {
	case item.PredicateType == PredicateCosignSign:
		item.Kind = KindSignature
	case item.PredicateType != "":
		item.Kind = KindAttestation
	case annotations[AnnotationBundleContent] == "message-signature":
		item.Kind = KindSignature
	}
	return item
}

// ResolveKind returns the kind of a Sigstore bundle from its content: a
// message signature or a statement with the cosign signing predicate is a
// signature, any other statement an attestation.
func ResolveKind(b *Bundle, statement *Statement) Kind {
	if b.MessageSignature != nil || (statement != nil && statement.PredicateType == PredicateCosignSign) {
		return KindSignature
	}
	return KindAttestation
}

var sbomFormats = map[string]Format{
	MediaTypeSPDXJSON:      FormatSPDXJSON,
	MediaTypeSPDXJSONText:  FormatSPDXJSON,
	MediaTypeSPDXTagValue:  FormatSPDXTagValue,
	MediaTypeCycloneDXJSON: FormatCycloneDXJSON,
	MediaTypeCycloneDXXML:  FormatCycloneDXXML,
	MediaTypeSyftJSON:      FormatSyftJSON,
}

// SBOMFormat returns the SBOM format that mediaType names, if any.
func SBOMFormat(mediaType string) (Format, bool) {
	format, ok := sbomFormats[BaseMediaType(mediaType)]
	return format, ok
}

// LegacyTag is a tag in cosign's scheme: the subject digest with ":"
// replaced by "-", plus ".sig", ".att" or ".sbom". Suffix is empty for the
// bare "sha256-<hex>" tag that clients keep as a referrers fallback index.
type LegacyTag struct {
	Subject digest.Digest
	Suffix  string
}

// Legacy tag suffixes.
const (
	SuffixSignature   = ".sig"
	SuffixAttestation = ".att"
	SuffixSBOM        = ".sbom"
)

// ParseLegacyTag reports whether tag follows cosign's tag scheme and, if so,
// which subject it names. Such a tag stays an ordinary tag for the
// registry; only this package reads a subject into it.
func ParseLegacyTag(tag string) (LegacyTag, bool) {
	algorithm, rest, ok := strings.Cut(tag, "-")
	if !ok {
		return LegacyTag{}, false
	}
	encoded, suffix := rest, ""
	if dot := strings.IndexByte(rest, '.'); dot >= 0 {
		encoded, suffix = rest[:dot], rest[dot:]
	}
	switch suffix {
	case "", SuffixSignature, SuffixAttestation, SuffixSBOM:
	default:
		return LegacyTag{}, false
	}
	d, err := digest.Parse(algorithm + ":" + encoded)
	if err != nil || !d.Algorithm().Available() {
		return LegacyTag{}, false
	}
	return LegacyTag{Subject: d, Suffix: suffix}, true
}

// LegacyTagName returns the tag under which cosign stores the artifacts of
// the given suffix for subject.
func LegacyTagName(subject digest.Digest, suffix string) string {
	return string(subject.Algorithm()) + "-" + subject.Encoded() + suffix
}
