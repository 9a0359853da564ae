package supplychain

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cycloneDXVersions lists, for each supported specification version, the
// top-level members and the component types its JSON schema allows. Each
// version extends the one before.
var cycloneDXVersions = func() map[string]cycloneDXVersion {
	v14 := cycloneDXVersion{
		members: []string{"$schema", "bomFormat", "specVersion", "serialNumber", "version", "metadata", "components",
			"services", "externalReferences", "dependencies", "compositions", "vulnerabilities", "signature"},
		componentTypes: []string{"application", "framework", "library", "container", "operating-system", "device", "firmware", "file"},
	}
	v15 := cycloneDXVersion{
		members:        append(slices.Clone(v14.members), "properties", "annotations", "formulation"),
		componentTypes: append(slices.Clone(v14.componentTypes), "platform", "device-driver", "machine-learning-model", "data"),
	}
	v16 := cycloneDXVersion{
		members:        append(slices.Clone(v15.members), "declarations", "definitions"),
		componentTypes: append(slices.Clone(v15.componentTypes), "cryptographic-asset"),
	}
	return map[string]cycloneDXVersion{"1.4": v14, "1.5": v15, "1.6": v16}
}()

type cycloneDXVersion struct {
	members        []string
	componentTypes []string
}

var serialNumberPattern = regexp.MustCompile(`^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

type cycloneDXComponent struct {
	Type       string               `json:"type" xml:"type,attr"`
	Name       string               `json:"name" xml:"name"`
	BOMRef     string               `json:"bom-ref" xml:"bom-ref,attr"`
	Scope      string               `json:"scope" xml:"scope"`
	Components []cycloneDXComponent `json:"components" xml:"components>component"`
}

// cycloneDXBOM is the part of a CycloneDX BOM that validation reads, in
// either encoding.
type cycloneDXBOM struct {
	XMLName      xml.Name
	BOMFormat    string `json:"bomFormat"`
	SpecVersion  string `json:"specVersion"`
	SerialNumber string `json:"serialNumber" xml:"serialNumber,attr"`
	Version      *int   `json:"version" xml:"version,attr"`
	Metadata     *struct {
		Timestamp string              `json:"timestamp" xml:"timestamp"`
		Component *cycloneDXComponent `json:"component" xml:"component"`
	} `json:"metadata" xml:"metadata"`
	Components []cycloneDXComponent `json:"components" xml:"components>component"`
	Services   []struct {
		Name string `json:"name" xml:"name"`
	} `json:"services" xml:"services>service"`
	Dependencies []struct {
		Ref *string `json:"ref"`
	} `json:"dependencies"`
}

func validateCycloneDXJSON(data []byte) (*SBOM, error) {
	raw, err := decodeObject(FormatCycloneDXJSON, data)
	if err != nil {
		return nil, err
	}
	if err := checkDeclaredFormat(FormatCycloneDXJSON, raw); err != nil {
		return nil, err
	}
	var bom cycloneDXBOM
	if err := json.Unmarshal(data, &bom); err != nil {
		return nil, &ValidationError{Format: FormatCycloneDXJSON, Problems: []string{"a field has the wrong type: " + err.Error()}}
	}

	var p problems
	if bom.BOMFormat != "CycloneDX" {
		p.add("bomFormat %q is not CycloneDX", bom.BOMFormat)
	}
	version, ok := cycloneDXVersions[bom.SpecVersion]
	if !ok {
		p.add("specVersion %q is not 1.4, 1.5 or 1.6", bom.SpecVersion)
		return nil, p.err(FormatCycloneDXJSON)
	}
	for _, member := range slices.Sorted(maps.Keys(raw)) {
		if !slices.Contains(version.members, member) {
			p.add("member %q is not allowed in CycloneDX %s", member, bom.SpecVersion)
		}
	}
	for i, dependency := range bom.Dependencies {
		if dependency.Ref == nil {
			p.add("dependencies[%d].ref is missing", i)
		}
	}
	packages := checkCycloneDX(&p, &bom, version)
	if err := p.err(FormatCycloneDXJSON); err != nil {
		return nil, err
	}
	return &SBOM{Format: FormatCycloneDXJSON, SpecVersion: bom.SpecVersion, Packages: packages}, nil
}

func validateCycloneDXXML(data []byte) (*SBOM, error) {
	if trimmed := bytes.TrimSpace(data); trimmed[0] == '{' {
		return nil, &ValidationError{Format: FormatCycloneDXXML, Problems: []string{"the document is JSON but is declared as CycloneDX XML"}}
	}
	var bom cycloneDXBOM
	if err := xml.Unmarshal(data, &bom); err != nil {
		return nil, &ValidationError{Format: FormatCycloneDXXML, Problems: []string{"not well-formed XML: " + err.Error()}}
	}
	specVersion, ok := strings.CutPrefix(bom.XMLName.Space, "http://cyclonedx.org/schema/bom/")
	if bom.XMLName.Local != "bom" || !ok {
		return nil, &ValidationError{Format: FormatCycloneDXXML, Problems: []string{
			"the root element {" + bom.XMLName.Space + "}" + bom.XMLName.Local + " is not a CycloneDX bom"}}
	}
	var p problems
	version, ok := cycloneDXVersions[specVersion]
	if !ok {
		p.add("schema namespace %q is not CycloneDX 1.4, 1.5 or 1.6", bom.XMLName.Space)
		return nil, p.err(FormatCycloneDXXML)
	}
	bom.SpecVersion = specVersion
	packages := checkCycloneDX(&p, &bom, version)
	if err := p.err(FormatCycloneDXXML); err != nil {
		return nil, err
	}
	return &SBOM{Format: FormatCycloneDXXML, SpecVersion: specVersion, Packages: packages}, nil
}

// checkCycloneDX applies the checks both encodings share and returns the
// number of components, nested ones included.
func checkCycloneDX(p *problems, bom *cycloneDXBOM, version cycloneDXVersion) int {
	if bom.SerialNumber != "" && !serialNumberPattern.MatchString(bom.SerialNumber) {
		p.add("serialNumber %q is not a urn:uuid", bom.SerialNumber)
	}
	if bom.Version != nil && *bom.Version < 1 {
		p.add("version %d is less than 1", *bom.Version)
	}
	if bom.Metadata != nil && bom.Metadata.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339, bom.Metadata.Timestamp); err != nil {
			p.add("metadata.timestamp %q is not an RFC 3339 time", bom.Metadata.Timestamp)
		}
	}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		checkComponent(p, "metadata.component", *bom.Metadata.Component, version, map[string]bool{})
	}
	for i, service := range bom.Services {
		if service.Name == "" {
			p.add("services[%d].name is missing", i)
		}
	}
	refs := map[string]bool{}
	count := 0
	for i, component := range bom.Components {
		count += checkComponent(p, "components["+strconv.Itoa(i)+"]", component, version, refs)
	}
	if count == 0 && len(bom.Services) == 0 {
		p.add("the BOM lists no components or services")
	}
	return count
}

func checkComponent(p *problems, path string, c cycloneDXComponent, version cycloneDXVersion, refs map[string]bool) int {
	switch {
	case c.Type == "":
		p.add("%s.type is missing", path)
	case !slices.Contains(version.componentTypes, c.Type):
		p.add("%s.type %q is not a component type of this CycloneDX version", path, c.Type)
	}
	if c.Name == "" {
		p.add("%s.name is missing", path)
	}
	switch c.Scope {
	case "", "required", "optional", "excluded":
	default:
		p.add("%s.scope %q is not required, optional or excluded", path, c.Scope)
	}
	if c.BOMRef != "" {
		if refs[c.BOMRef] {
			p.add("%s.bom-ref %q is not unique", path, c.BOMRef)
		}
		refs[c.BOMRef] = true
	}
	count := 1
	for i, child := range c.Components {
		count += checkComponent(p, path+".components["+strconv.Itoa(i)+"]", child, version, refs)
	}
	return count
}
