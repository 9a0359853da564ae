package supplychain

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
)

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vectors", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// summary is the part of an Item that classification decides.
type summary struct {
	Kind          Kind
	Format        Format
	Tool          string
	PredicateType string
}

func summarise(items []Item) []summary {
	var out []summary
	for _, item := range items {
		out = append(out, summary{item.Kind, item.Format, item.Tool, item.PredicateType})
	}
	return out
}

func TestClassifyRecordedManifests(t *testing.T) {
	tests := []struct {
		vector string
		want   []summary
	}{
		{"cosign-v2-legacy-sig-manifest.json", []summary{{KindSignature, FormatCosignSimpleSigning, ToolCosign, ""}}},
		{"cosign-v2-legacy-att-manifest.json", []summary{
			{KindAttestation, FormatDSSE, ToolCosign, PredicateSPDX},
			{KindAttestation, FormatDSSE, ToolCosign, PredicateCycloneDX},
			{KindAttestation, FormatDSSE, ToolCosign, PredicateSLSAProvenance1},
		}},
		{"cosign-v2-bundle-referrer-manifest.json", []summary{{KindSignature, FormatSigstoreBundle, ToolCosign, PredicateCosignSign}}},
		{"cosign-v3-bundle-referrer-manifest.json", []summary{{KindSignature, FormatSigstoreBundle, ToolCosign, PredicateCosignSign}}},
		{"notation-sig-manifest-jws.json", []summary{{KindSignature, FormatNotationJWS, ToolNotation, ""}}},
		{"oras-attach-spdx-referrer-manifest.json", []summary{{KindSBOM, FormatSPDXJSON, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			m, err := ParseManifest(readVector(t, tt.vector))
			if err != nil {
				t.Fatal(err)
			}
			if got := summarise(Classify(m)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Classify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestClassifyOtherForms(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     []summary
	}{
		{
			name:     "notation COSE with top-level artifactType",
			manifest: `{"artifactType":"application/vnd.cncf.notary.signature","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/cose"}]}`,
			want:     []summary{{KindSignature, FormatNotationCOSE, ToolNotation, ""}},
		},
		{
			name:     "notation JWS with a media type parameter",
			manifest: `{"config":{"mediaType":"application/vnd.cncf.notary.signature; charset=utf-8"},"layers":[{"mediaType":"Application/JOSE+JSON"}]}`,
			want:     []summary{{KindSignature, FormatNotationJWS, ToolNotation, ""}},
		},
		{
			name:     "JWS layer outside a notation artifact",
			manifest: `{"artifactType":"application/vnd.example","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/jose+json"}]}`,
		},
		{
			name:     "cosign referrers mode signature",
			manifest: `{"config":{"mediaType":"application/vnd.dev.cosign.artifact.sig.v1+json"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","annotations":{"dev.cosignproject.cosign/signature":"MEU="}}],"subject":{"digest":"sha256:1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2"}}`,
			want:     []summary{{KindSignature, FormatCosignSimpleSigning, ToolCosign, ""}},
		},
		{
			name:     "cosign attach sbom",
			manifest: `{"config":{"mediaType":"application/vnd.dev.cosign.artifact.sbom.v1+json"},"layers":[{"mediaType":"text/spdx+json"}]}`,
			want:     []summary{{KindSBOM, FormatSPDXJSON, ToolCosign, ""}},
		},
		{
			name:     "bundle v0.2 attestation",
			manifest: `{"artifactType":"application/vnd.dev.sigstore.bundle+json;version=0.2","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2"}],"annotations":{"dev.sigstore.bundle.predicateType":"https://slsa.dev/provenance/v0.2"}}`,
			want:     []summary{{KindAttestation, FormatSigstoreBundle, ToolCosign, PredicateSLSAProvenance02}},
		},
		{
			name:     "bundle without annotations",
			manifest: `{"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}]}`,
			want:     []summary{{"", FormatSigstoreBundle, ToolCosign, ""}},
		},
		{
			name:     "CycloneDX XML and in-toto statement",
			manifest: `{"config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/vnd.cyclonedx+xml"},{"mediaType":"application/vnd.in-toto+json"},{"mediaType":"application/octet-stream"}]}`,
			want:     []summary{{KindSBOM, FormatCycloneDXXML, "", ""}, {KindAttestation, FormatInTotoStatement, "", ""}},
		},
		{
			name:     "ordinary image",
			manifest: `{"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip"}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tt.manifest))
			if err != nil {
				t.Fatal(err)
			}
			if got := summarise(Classify(m)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Classify = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseLegacyTag(t *testing.T) {
	const hex = "1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2"
	subject := digest.Digest("sha256:" + hex)
	tests := []struct {
		tag  string
		want LegacyTag
		ok   bool
	}{
		{"sha256-" + hex + ".sig", LegacyTag{subject, SuffixSignature}, true},
		{"sha256-" + hex + ".att", LegacyTag{subject, SuffixAttestation}, true},
		{"sha256-" + hex + ".sbom", LegacyTag{subject, SuffixSBOM}, true},
		{"sha256-" + hex, LegacyTag{subject, ""}, true},
		{"sha256-" + hex + ".txt", LegacyTag{}, false},
		{"sha256-" + hex[:10] + ".sig", LegacyTag{}, false},
		{"sha256-" + hex[:63] + "G.sig", LegacyTag{}, false},
		{"v1", LegacyTag{}, false},
		{"md5-" + hex + ".sig", LegacyTag{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseLegacyTag(tt.tag)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseLegacyTag(%q) = %+v, %v; want %+v, %v", tt.tag, got, ok, tt.want, tt.ok)
		}
	}
	if name := LegacyTagName(subject, SuffixSignature); name != "sha256-"+hex+".sig" {
		t.Errorf("LegacyTagName = %q", name)
	}
}

func TestBaseMediaType(t *testing.T) {
	tests := map[string]string{
		"application/vnd.dev.sigstore.bundle+json;version=0.2": MediaTypeSigstoreBundle,
		"Application/SPDX+JSON":                                MediaTypeSPDXJSON,
		"application/cose; charset=binary":                     MediaTypeCOSE,
		"not a media type;;":                                   "not a media type",
	}
	for in, want := range tests {
		if got := BaseMediaType(in); got != want {
			t.Errorf("BaseMediaType(%q) = %q, want %q", in, got, want)
		}
	}
}
