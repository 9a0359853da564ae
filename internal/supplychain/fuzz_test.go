package supplychain

import (
	"testing"
)

// The fuzz targets check that the parsers fed by stored, untrusted
// documents never panic and keep their invariants. Seeds are the recorded
// tool outputs.

func FuzzParseBundle(f *testing.F) {
	for _, name := range []string{"cosign-v3-image-sign-bundle.json", "report.bin.sigstore.json", "cosign-v3-attest-spdx-bundle.json"} {
		f.Add(readVector(f, name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data)
		if err != nil {
			return
		}
		if (b.MessageSignature == nil) == (b.Envelope == nil) {
			t.Fatalf("bundle has message signature %v and envelope %v, want exactly one", b.MessageSignature != nil, b.Envelope != nil)
		}
		_, _ = cosignKeyring(t).VerifyBundle(b, appDigest)
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add(readVector(f, "cosign-v2-legacy-att-spdx-dsse.json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		if len(env.Signatures) == 0 || env.PayloadType == "" {
			t.Fatalf("envelope accepted without signatures or payload type: %+v", env)
		}
		_, _ = cosignKeyring(t).VerifyEnvelope(env, appDigest)
	})
}

func FuzzVerifyNotation(f *testing.F) {
	f.Add(readVector(f, "notation-envelope.jws.json"), false)
	f.Add(readVector(f, "notation-envelope.cose"), true)
	f.Fuzz(func(t *testing.T, data []byte, cose bool) {
		mediaType := MediaTypeJWS
		if cose {
			mediaType = MediaTypeCOSE
		}
		_, _ = VerifyNotation(mediaType, data, appTarget, NotationPolicy{Level: LevelStrict, TrustedIdentities: []string{"*"}}, notationNow)
	})
}

func FuzzValidateSBOM(f *testing.F) {
	f.Add(readVector(f, "sbom.spdx.json"), uint8(0))
	f.Add(readVector(f, "sbom.cdx.json"), uint8(1))
	f.Add(readVector(f, "sbom.cdx.xml"), uint8(2))
	formats := []Format{FormatSPDXJSON, FormatCycloneDXJSON, FormatCycloneDXXML, FormatSPDXTagValue, FormatSyftJSON}
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		sbom, err := ValidateSBOM(formats[int(format)%len(formats)], data)
		if err == nil && sbom.Packages < 0 {
			t.Fatalf("negative package count %d", sbom.Packages)
		}
	})
}

func FuzzParseLegacyTag(f *testing.F) {
	f.Add("sha256-1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2.sig")
	f.Add("v1")
	f.Fuzz(func(t *testing.T, tag string) {
		parsed, ok := ParseLegacyTag(tag)
		if ok && LegacyTagName(parsed.Subject, parsed.Suffix) != tag {
			t.Fatalf("ParseLegacyTag(%q) = %+v, which names tag %q", tag, parsed, LegacyTagName(parsed.Subject, parsed.Suffix))
		}
	})
}
