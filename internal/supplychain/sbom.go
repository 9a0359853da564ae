package supplychain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// SBOM summarises a validated SBOM document.
type SBOM struct {
	Format Format
	// SpecVersion is "SPDX-2.3" for SPDX or "1.5" for CycloneDX.
	SpecVersion string
	// Packages counts SPDX packages, CycloneDX components (nested ones
	// included) or Syft artifacts.
	Packages int
}

// ValidationError lists every problem found in one SBOM document.
type ValidationError struct {
	Format   Format
	Problems []string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("%s document: %s", e.Format, strings.Join(e.Problems, "; "))
}

// Is makes errors.Is(err, ErrSBOMInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrSBOMInvalid }

// problems collects validation findings.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err(format Format) error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Format: format, Problems: p}
}

// PredicateFormat returns the SBOM format that an in-toto predicate type
// implies, if any.
func PredicateFormat(predicateType string) (Format, bool) {
	switch predicateType {
	case PredicateSPDX, "https://spdx.dev/Document/v2.3", "https://spdx.dev/Document/v2.2":
		return FormatSPDXJSON, true
	case PredicateCycloneDX:
		return FormatCycloneDXJSON, true
	}
	return "", false
}

// ValidateSBOM checks that data is a well-formed SBOM of the declared format
// and lists at least one package. The result is nil, together with an
// error, when the document is invalid; errors.Is(err, ErrSBOMInvalid) holds
// for every validation failure.
func ValidateSBOM(format Format, data []byte) (*SBOM, error) {
	if err := checkSize("SBOM", len(data)); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ValidationError{Format: format, Problems: []string{"the document is empty"}}
	}
	switch format {
	case FormatSPDXJSON:
		return validateSPDXJSON(data)
	case FormatSPDXTagValue:
		return validateSPDXTagValue(data)
	case FormatCycloneDXJSON:
		return validateCycloneDXJSON(data)
	case FormatCycloneDXXML:
		return validateCycloneDXXML(data)
	case FormatSyftJSON:
		return validateSyftJSON(data)
	}
	return nil, fmt.Errorf("SBOM format %q: %w", format, ErrUnsupported)
}

// decodeObject decodes a JSON object into its top-level members.
func decodeObject(format Format, data []byte) (map[string]json.RawMessage, error) {
	var doc map[string]json.RawMessage
	if err := decodeStrictJSON(data, &doc); err != nil {
		return nil, &ValidationError{Format: format, Problems: []string{"not a JSON object: " + err.Error()}}
	}
	if doc == nil {
		return nil, &ValidationError{Format: format, Problems: []string{"not a JSON object"}}
	}
	return doc, nil
}

// checkDeclaredFormat rejects a document of one SBOM family declared as
// the other, such as an SPDX document pushed as CycloneDX.
func checkDeclaredFormat(format Format, doc map[string]json.RawMessage) error {
	_, spdx := doc["spdxVersion"]
	_, cyclonedx := doc["bomFormat"]
	switch {
	case format == FormatSPDXJSON && cyclonedx && !spdx:
		return &ValidationError{Format: format, Problems: []string{"the document is CycloneDX (it has bomFormat) but is declared as SPDX"}}
	case format == FormatCycloneDXJSON && spdx && !cyclonedx:
		return &ValidationError{Format: format, Problems: []string{"the document is SPDX (it has spdxVersion) but is declared as CycloneDX"}}
	}
	return nil
}

func validateSyftJSON(data []byte) (*SBOM, error) {
	var doc struct {
		Artifacts *[]json.RawMessage `json:"artifacts"`
		Schema    *struct {
			Version string `json:"version"`
		} `json:"schema"`
	}
	if err := decodeStrictJSON(data, &doc); err != nil {
		return nil, &ValidationError{Format: FormatSyftJSON, Problems: []string{"not a JSON object: " + err.Error()}}
	}
	var p problems
	if doc.Schema == nil || doc.Schema.Version == "" {
		p.add("schema.version is missing")
	}
	if doc.Artifacts == nil || len(*doc.Artifacts) == 0 {
		p.add("the document lists no artifacts")
	}
	if err := p.err(FormatSyftJSON); err != nil {
		return nil, err
	}
	return &SBOM{Format: FormatSyftJSON, SpecVersion: doc.Schema.Version, Packages: len(*doc.Artifacts)}, nil
}
