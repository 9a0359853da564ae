package supplychain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// spdxDocument is the part of an SPDX 2.x JSON document that validation
// reads. The required fields are those of SPDX 2.3 (clauses 6 and 7).
type spdxDocument struct {
	SPDXVersion       string `json:"spdxVersion"`
	DataLicense       string `json:"dataLicense"`
	SPDXID            string `json:"SPDXID"`
	Name              string `json:"name"`
	DocumentNamespace string `json:"documentNamespace"`
	CreationInfo      *struct {
		Created  string   `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []struct {
		Name             string `json:"name"`
		SPDXID           string `json:"SPDXID"`
		DownloadLocation string `json:"downloadLocation"`
	} `json:"packages"`
	Files []struct {
		FileName string `json:"fileName"`
		SPDXID   string `json:"SPDXID"`
	} `json:"files"`
}

func validateSPDXJSON(data []byte) (*SBOM, error) {
	raw, err := decodeObject(FormatSPDXJSON, data)
	if err != nil {
		return nil, err
	}
	if err := checkDeclaredFormat(FormatSPDXJSON, raw); err != nil {
		return nil, err
	}
	var doc spdxDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, &ValidationError{Format: FormatSPDXJSON, Problems: []string{"a field has the wrong type: " + err.Error()}}
	}

	var p problems
	checkSPDXHeader(&p, doc.SPDXVersion, doc.DataLicense, doc.SPDXID, doc.Name, doc.DocumentNamespace)
	if doc.CreationInfo == nil {
		p.add("creationInfo is missing")
	} else {
		checkSPDXCreation(&p, doc.CreationInfo.Created, doc.CreationInfo.Creators)
	}
	for i, pkg := range doc.Packages {
		if pkg.Name == "" {
			p.add("packages[%d].name is missing", i)
		}
		if !strings.HasPrefix(pkg.SPDXID, "SPDXRef-") {
			p.add("packages[%d].SPDXID %q does not start with SPDXRef-", i, pkg.SPDXID)
		}
		if pkg.DownloadLocation == "" {
			p.add("packages[%d].downloadLocation is missing (use NOASSERTION when unknown)", i)
		}
	}
	for i, file := range doc.Files {
		if file.FileName == "" {
			p.add("files[%d].fileName is missing", i)
		}
		if !strings.HasPrefix(file.SPDXID, "SPDXRef-") {
			p.add("files[%d].SPDXID %q does not start with SPDXRef-", i, file.SPDXID)
		}
	}
	if len(doc.Packages) == 0 && len(doc.Files) == 0 {
		p.add("the document lists no packages or files")
	}
	if err := p.err(FormatSPDXJSON); err != nil {
		return nil, err
	}
	return &SBOM{Format: FormatSPDXJSON, SpecVersion: doc.SPDXVersion, Packages: len(doc.Packages)}, nil
}

func checkSPDXHeader(p *problems, version, dataLicense, id, name, namespace string) {
	switch version {
	case "SPDX-2.2", "SPDX-2.3":
	case "":
		p.add("spdxVersion is missing")
	default:
		p.add("spdxVersion %q is not SPDX-2.2 or SPDX-2.3", version)
	}
	if dataLicense != "CC0-1.0" {
		p.add("dataLicense %q is not CC0-1.0", dataLicense)
	}
	if id != "SPDXRef-DOCUMENT" {
		p.add("SPDXID %q is not SPDXRef-DOCUMENT", id)
	}
	if name == "" {
		p.add("name is missing")
	}
	u, err := url.Parse(namespace)
	switch {
	case namespace == "":
		p.add("documentNamespace is missing")
	case err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(namespace, "#"):
		p.add("documentNamespace %q is not an absolute URI without a fragment", namespace)
	}
}

func checkSPDXCreation(p *problems, created string, creators []string) {
	if _, err := time.Parse(time.RFC3339, created); err != nil {
		p.add("creationInfo.created %q is not an RFC 3339 time", created)
	}
	if len(creators) == 0 {
		p.add("creationInfo.creators is empty")
	}
	for i, creator := range creators {
		if !strings.HasPrefix(creator, "Person:") && !strings.HasPrefix(creator, "Organization:") && !strings.HasPrefix(creator, "Tool:") {
			p.add("creationInfo.creators[%d] %q does not start with Person:, Organization: or Tool:", i, creator)
		}
	}
}

// validateSPDXTagValue checks the tag-value form (text/spdx) for the same
// required document fields and counts PackageName tags.
func validateSPDXTagValue(data []byte) (*SBOM, error) {
	tags := map[string]string{}
	var creators []string
	packages := 0

	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 64<<10), MaxDocumentBytes)
	for scanner.Scan() {
		tag, value, ok := strings.Cut(scanner.Text(), ":")
		if !ok {
			continue
		}
		tag, value = strings.TrimSpace(tag), strings.TrimSpace(value)
		switch tag {
		case "PackageName":
			packages++
		case "Creator":
			creators = append(creators, value)
		default:
			if _, seen := tags[tag]; !seen {
				tags[tag] = value
			}
		}
	}

	var p problems
	if err := scanner.Err(); err != nil {
		p.add("reading the document failed: %v", err)
	}
	checkSPDXHeader(&p, tags["SPDXVersion"], tags["DataLicense"], tags["SPDXID"], tags["DocumentName"], tags["DocumentNamespace"])
	checkSPDXCreation(&p, tags["Created"], creators)
	if packages == 0 && tags["FileName"] == "" {
		p.add("the document lists no packages or files")
	}
	if err := p.err(FormatSPDXTagValue); err != nil {
		return nil, err
	}
	return &SBOM{Format: FormatSPDXTagValue, SpecVersion: tags["SPDXVersion"], Packages: packages}, nil
}
