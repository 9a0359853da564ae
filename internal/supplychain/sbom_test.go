package supplychain

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateRecordedSBOMs(t *testing.T) {
	tests := []struct {
		vector string
		format Format
		want   SBOM
	}{
		{"sbom.spdx.json", FormatSPDXJSON, SBOM{FormatSPDXJSON, "SPDX-2.3", 1}},
		{"sbom.cdx.json", FormatCycloneDXJSON, SBOM{FormatCycloneDXJSON, "1.5", 1}},
		{"sbom.cdx.xml", FormatCycloneDXXML, SBOM{FormatCycloneDXXML, "1.5", 1}},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			got, err := ValidateSBOM(tt.format, readVector(t, tt.vector))
			if err != nil {
				t.Fatalf("ValidateSBOM: %v", err)
			}
			if *got != tt.want {
				t.Errorf("ValidateSBOM = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestValidateSBOMRejects(t *testing.T) {
	spdx := string(readVector(t, "sbom.spdx.json"))
	cdx := string(readVector(t, "sbom.cdx.json"))
	xml := string(readVector(t, "sbom.cdx.xml"))
	tests := []struct {
		name   string
		format Format
		doc    string
		text   string
	}{
		{"empty file", FormatSPDXJSON, "  \n", "the document is empty"},
		{"empty JSON object", FormatCycloneDXJSON, "{}", `bomFormat "" is not CycloneDX`},
		{"SPDX declared as CycloneDX", FormatCycloneDXJSON, spdx, "is SPDX (it has spdxVersion) but is declared as CycloneDX"},
		{"CycloneDX declared as SPDX", FormatSPDXJSON, cdx, "is CycloneDX (it has bomFormat) but is declared as SPDX"},
		{"SPDX missing fields", FormatSPDXJSON, string(readVector(t, "min.spdx.json")), `dataLicense "" is not CC0-1.0; SPDXID "" is not SPDXRef-DOCUMENT; documentNamespace is missing; creationInfo is missing; the document lists no packages or files`},
		{"SPDX without packages", FormatSPDXJSON, string(readVector(t, "v22.spdx.json")), "the document lists no packages or files"},
		{"SPDX 2.1", FormatSPDXJSON, strings.Replace(spdx, "SPDX-2.3", "SPDX-2.1", 1), `spdxVersion "SPDX-2.1" is not SPDX-2.2 or SPDX-2.3`},
		{"SPDX package without location", FormatSPDXJSON, strings.Replace(spdx, `"downloadLocation": "NOASSERTION",`, "", 1), "packages[0].downloadLocation is missing"},
		{"SPDX bad creator", FormatSPDXJSON, strings.Replace(spdx, "Tool: hand", "hand", 1), `creationInfo.creators[0] "hand-written-for-test" does not start with`},
		{"SPDX namespace with fragment", FormatSPDXJSON, strings.Replace(spdx, "demo-artifact-1", "demo#1", 1), "is not an absolute URI without a fragment"},
		{"SPDX wrong type", FormatSPDXJSON, strings.Replace(spdx, `"name": "demo-artifact"`, `"name": 7`, 1), "a field has the wrong type"},
		{"not JSON", FormatSPDXJSON, "<bom/>", "not a JSON object"},
		{"CycloneDX 9.9", FormatCycloneDXJSON, string(readVector(t, "bad.cdx.json")), `specVersion "9.9" is not 1.4, 1.5 or 1.6`},
		{"CycloneDX without components", FormatCycloneDXJSON, `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}`, "the BOM lists no components or services"},
		{"CycloneDX unknown member", FormatCycloneDXJSON, strings.Replace(cdx, `"version": 1,`, `"version": 1, "extra": true,`, 1), `member "extra" is not allowed in CycloneDX 1.5`},
		{"CycloneDX 1.6 member in 1.4", FormatCycloneDXJSON, strings.Replace(strings.Replace(cdx, `"1.5"`, `"1.4"`, 1), `"version": 1,`, `"version": 1, "annotations": [],`, 1), `member "annotations" is not allowed in CycloneDX 1.4`},
		{"CycloneDX bad component type", FormatCycloneDXJSON, strings.Replace(cdx, `"type": "library"`, `"type": "gadget"`, 1), `components[0].type "gadget" is not a component type`},
		{"CycloneDX component without name", FormatCycloneDXJSON, strings.Replace(cdx, `"name": "demo",`, "", 1), "components[0].name is missing"},
		{"CycloneDX bad serial number", FormatCycloneDXJSON, strings.Replace(cdx, "urn:uuid:", "uuid:", 1), "is not a urn:uuid"},
		{"CycloneDX version 0", FormatCycloneDXJSON, strings.Replace(cdx, `"version": 1`, `"version": 0`, 1), "version 0 is less than 1"},
		{"CycloneDX bad timestamp", FormatCycloneDXJSON, strings.Replace(cdx, "2026-01-01T00:00:00Z", "yesterday", 1), `metadata.timestamp "yesterday"`},
		{"CycloneDX XML given JSON", FormatCycloneDXXML, cdx, "the document is JSON but is declared as CycloneDX XML"},
		{"CycloneDX XML wrong root", FormatCycloneDXXML, `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>`, "is not a CycloneDX bom"},
		{"CycloneDX XML 1.2", FormatCycloneDXXML, strings.Replace(xml, "bom/1.5", "bom/1.2", 1), "is not CycloneDX 1.4, 1.5 or 1.6"},
		{"CycloneDX XML without name", FormatCycloneDXXML, strings.Replace(xml, "<name>demo</name>", "", 1), "components[0].name is missing"},
		{"CycloneDX XML broken", FormatCycloneDXXML, "<bom", "not well-formed XML"},
		{"over 4 MiB", FormatSPDXJSON, strings.Repeat(" ", MaxDocumentBytes+1), "4 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateSBOM(tt.format, []byte(tt.doc))
			if err == nil {
				t.Fatalf("ValidateSBOM accepted the document: %+v", got)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("err = %q, want it to contain %q", err, tt.text)
			}
			if tt.name != "over 4 MiB" && !errors.Is(err, ErrSBOMInvalid) {
				t.Errorf("errors.Is(err, ErrSBOMInvalid) = false for %v", err)
			}
		})
	}
}

func TestValidateOtherSBOMForms(t *testing.T) {
	tagValue := "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: demo\n" +
		"DocumentNamespace: https://example.invalid/demo\nCreator: Tool: test\nCreated: 2026-01-01T00:00:00Z\n" +
		"PackageName: a\nSPDXID: SPDXRef-a\nPackageName: b\nSPDXID: SPDXRef-b\n"
	got, err := ValidateSBOM(FormatSPDXTagValue, []byte(tagValue))
	if err != nil {
		t.Fatalf("tag-value: %v", err)
	}
	if *got != (SBOM{FormatSPDXTagValue, "SPDX-2.3", 2}) {
		t.Errorf("tag-value = %+v", *got)
	}
	_, err = ValidateSBOM(FormatSPDXTagValue, []byte("SPDXVersion: SPDX-2.3\n"))
	if !errors.Is(err, ErrSBOMInvalid) || !strings.Contains(err.Error(), "documentNamespace is missing") {
		t.Errorf("tag-value without fields: err = %v", err)
	}

	got, err = ValidateSBOM(FormatSyftJSON, []byte(`{"artifacts":[{},{},{}],"schema":{"version":"16.0.0"}}`))
	if err != nil {
		t.Fatalf("syft: %v", err)
	}
	if *got != (SBOM{FormatSyftJSON, "16.0.0", 3}) {
		t.Errorf("syft = %+v", *got)
	}
	_, err = ValidateSBOM(FormatSyftJSON, []byte(`{"artifacts":[]}`))
	if !errors.Is(err, ErrSBOMInvalid) {
		t.Errorf("empty syft: err = %v", err)
	}

	nested := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","bom-ref":"x","components":[{"type":"cryptographic-asset","name":"b","bom-ref":"x"}]}]}`
	_, err = ValidateSBOM(FormatCycloneDXJSON, []byte(nested))
	if err == nil || !strings.Contains(err.Error(), `components[0].components[0].bom-ref "x" is not unique`) {
		t.Errorf("duplicate bom-ref: err = %v", err)
	}
	got, err = ValidateSBOM(FormatCycloneDXJSON, []byte(strings.Replace(nested, `"bom-ref":"x"}]`, `"bom-ref":"y"}]`, 1)))
	if err != nil || got.Packages != 2 {
		t.Errorf("nested components: %+v, %v", got, err)
	}
	if _, err := ValidateSBOM(FormatDSSE, []byte("{}")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("non-SBOM format: err = %v", err)
	}
}
