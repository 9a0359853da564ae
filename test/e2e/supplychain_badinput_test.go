package e2e

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	dsseMediaType       = "application/vnd.dsse.envelope.v1+json"
	bundleMediaType     = "application/vnd.dev.sigstore.bundle.v0.3+json"
	cosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
	// recordedAppDigest is the demo image that the recorded notation envelopes sign.
	recordedAppDigest = "sha256:1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2"
	// recordedApp3Digest is the demo image that the recorded cosign v3 bundle signs.
	recordedApp3Digest = "sha256:280feef4b873254a2bbbbb8b41c0b21228727acf693a3775d68f69b91b13cd4a"
)

// badDocument is a malformed or mislabelled supply-chain document, pushed as the one layer
// of a referrer, and the error that the trust status must report for it.
type badDocument struct {
	name         string
	artifactType string
	layerType    string // the artifact type when empty
	content      []byte
	annotations  map[string]string
	want         string
}

// TestSupplyChainBadInput pushes malformed and mislabelled signatures, attestations and
// SBOMs as referrers of an image through the registry. Each push is stored, and the trust
// status reports each document as not verified or invalid with a message that names the
// problem. Manifests that the registry cannot store are rejected with an OCI error. No
// request gets a 5xx response.
func TestSupplyChainBadInput(t *testing.T) {
	srv := startCoffer(t)
	const repository = "e2e/bad"

	subjectManifest := fileArtifactManifest(t, srv, repository)
	subject := descriptor{MediaType: mediaTypeImageManifest, Digest: pushManifest(t, srv, repository, subjectManifest), Size: int64(len(subjectManifest))}
	statement := func(predicateType, predicate string) string {
		return base64.StdEncoding.EncodeToString([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` +
			strings.TrimPrefix(subject.Digest, "sha256:") + `"}}],"predicateType":"` + predicateType + `","predicate":` + predicate + `}`))
	}
	signBundle := string(vectorFile(t, "cosign-v3-image-sign-bundle.json"))
	signAnnotations := map[string]string{"dev.sigstore.bundle.predicateType": cosignSignPredicate}
	notaryTarget := "signature for " + recordedAppDigest + ": signed digest does not match the subject " + subject.Digest
	notaryAnnotations := map[string]string{notationThumbprints: `["71fb1fb34c07523cfae362237c83740a8247a6359977a99443c4ee87572fb9e3"]`}

	documents := []badDocument{
		{
			name: "DSSE envelope without signatures", artifactType: dsseMediaType,
			content: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` + statement("https://slsa.dev/provenance/v1", "{}") + `","signatures":[]}`),
			want:    "malformed DSSE envelope: it has no signatures",
		},
		{
			name: "DSSE envelope cut short", artifactType: dsseMediaType,
			content: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":`),
			want:    "malformed DSSE envelope: unexpected EOF",
		},
		{
			name: "DSSE payload not base64", artifactType: dsseMediaType,
			content: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"%%%","signatures":[{"sig":"AA=="}]}`),
			want:    "malformed DSSE envelope: payload is missing or not base64",
		},
		{
			name: "bundle with a wrong media type", artifactType: bundleMediaType,
			content:     []byte(strings.Replace(signBundle, "bundle.v0.3+json", "bundle.v9+json", 1)),
			annotations: signAnnotations,
			want:        `malformed Sigstore bundle: mediaType "application/vnd.dev.sigstore.bundle.v9+json" is not a Sigstore bundle media type`,
		},
		{
			name: "bundle over another digest", artifactType: bundleMediaType,
			content:     []byte(signBundle),
			annotations: signAnnotations,
			want:        "in-toto statement about " + recordedApp3Digest + ": signed digest does not match the subject " + subject.Digest,
		},
		{
			name: "notation JWS over another digest", artifactType: notationArtifactType, layerType: "application/jose+json",
			content: vectorFile(t, "notation-envelope.jws.json"), annotations: notaryAnnotations,
			want: notaryTarget,
		},
		{
			name: "notation COSE over another digest", artifactType: notationArtifactType, layerType: "application/cose",
			content: vectorFile(t, "notation-envelope.cose"), annotations: notaryAnnotations,
			want: notaryTarget,
		},
		{
			name: "notation JWS not base64url", artifactType: notationArtifactType, layerType: "application/jose+json",
			content: []byte(`{"payload":"e30","protected":"!!","signature":"AA","header":{"x5c":[]}}`), annotations: notaryAnnotations,
			want: "malformed JWS envelope: protected header is not base64url",
		},
		{
			name: "notation JWS empty", artifactType: notationArtifactType, layerType: "application/jose+json",
			content: nil, annotations: notaryAnnotations,
			want: "malformed notation signature: the envelope is empty",
		},
		{
			name: "SPDX SBOM empty", artifactType: spdxArtifactType,
			content: nil,
			want:    "spdx-json document: the document is empty",
		},
		{
			name: "CycloneDX SBOM empty object", artifactType: cycloneDXArtifactType,
			content: []byte("{}"),
			want:    `cyclonedx-json document: bomFormat "" is not CycloneDX`,
		},
		{
			name: "SPDX declared as CycloneDX", artifactType: cycloneDXArtifactType,
			content: vectorFile(t, "sbom.spdx.json"),
			want:    "the document is SPDX (it has spdxVersion) but is declared as CycloneDX",
		},
		{
			name: "CycloneDX declared as SPDX", artifactType: spdxArtifactType,
			content: vectorFile(t, "sbom.cdx.json"),
			want:    "the document is CycloneDX (it has bomFormat) but is declared as SPDX",
		},
		{
			name: "attestation over 4 MiB", artifactType: dsseMediaType,
			content: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"` +
				statement("https://slsa.dev/provenance/v1", `{"padding":"`+strings.Repeat("x", 4<<20)+`"}`) + `","signatures":[{"sig":"AA=="}]}`),
			want: "bytes: document exceeds the 4 MiB limit",
		},
	}

	pushBlob(t, srv, repository, []byte("{}"))
	pushed := map[string]badDocument{}
	for _, doc := range documents {
		pushBlob(t, srv, repository, doc.content)
		pushed[pushManifest(t, srv, repository, jsonBody(t, referrerManifest(doc, subject)))] = doc
	}

	status := artifactTrust(t, srv, subject.Digest)
	reported := map[string]string{}
	for _, s := range status.Signatures {
		if s.Verified {
			t.Errorf("signature %s (%s) is verified", s.Manifest, pushed[s.Manifest].name)
		}
		reported[s.Manifest] = s.Error
	}
	for _, a := range status.Attestations {
		if a.Verified {
			t.Errorf("attestation %s (%s) is verified", a.Manifest, pushed[a.Manifest].name)
		}
		reported[a.Manifest] = a.Error
	}
	for _, s := range status.SBOMs {
		if s.Valid {
			t.Errorf("SBOM %s (%s) is valid", s.Manifest, pushed[s.Manifest].name)
		}
		reported[s.Manifest] = s.Error
	}
	for manifest, doc := range pushed {
		got, listed := reported[manifest]
		if !listed {
			t.Errorf("%s: the trust status does not list manifest %s", doc.name, manifest)
		} else if !strings.Contains(got, doc.want) {
			t.Errorf("%s: error %q, expected it to contain %q", doc.name, got, doc.want)
		}
	}
	if !status.Signed || status.Verified {
		t.Errorf("trust status signed %v, verified %v, expected signed and not verified", status.Signed, status.Verified)
	}

	checkRejectedManifests(t, srv, repository, subject)
	log, err := os.ReadFile(srv.logPath)
	if err != nil {
		t.Fatalf("read cofferd log: %v", err)
	}
	if failed := regexp.MustCompile(`(?m)^.*status=5\d\d.*$`).FindAll(log, -1); len(failed) > 0 {
		t.Errorf("cofferd returned a 5xx status for %d requests, the first:\n%s", len(failed), failed[0])
	}
}

// checkRejectedManifests pushes referrers of subject that the registry must reject, and
// checks the OCI error code and message of each.
func checkRejectedManifests(t *testing.T, srv *server, repository string, subject descriptor) {
	t.Helper()
	unknown := badDocument{artifactType: spdxArtifactType, content: randomText(t, 64)}
	withSubject := func(digest string, size int64) []byte {
		manifest := referrerManifest(unknown, subject)
		manifest["subject"] = descriptor{MediaType: subject.MediaType, Digest: digest, Size: size}
		return jsonBody(t, manifest)
	}
	valid := jsonBody(t, referrerManifest(unknown, subject))
	// The layer blob is stored, but the manifest declares another size for it.
	stored := randomText(t, 64)
	pushBlob(t, srv, repository, stored)
	wrongSize := referrerManifest(badDocument{artifactType: spdxArtifactType, content: stored}, subject)
	wrongSize["layers"] = []descriptor{{MediaType: spdxArtifactType, Digest: sha256Digest(stored), Size: 5}}
	for _, tt := range []struct {
		name     string
		manifest []byte
		code     string
		message  string
	}{
		{"not JSON", valid[:len(valid)/2], "MANIFEST_INVALID", "invalid manifest: not valid JSON"},
		{"subject digest malformed", withSubject("sha256:abc", subject.Size), "MANIFEST_INVALID", `subject: invalid digest "sha256:abc"`},
		{"subject size negative", withSubject(subject.Digest, -1), "MANIFEST_INVALID", "subject: negative size -1"},
		{"layer blob missing", valid, "MANIFEST_BLOB_UNKNOWN", "referenced blob " + sha256Digest(unknown.content) + " is not in the repository"},
		{"layer size differs from the blob", jsonBody(t, wrongSize), "MANIFEST_INVALID",
			"layers[0]: size 5 does not match blob " + sha256Digest(stored) + ", which has " + strconv.Itoa(len(stored)) + " bytes"},
	} {
		resp, body, err := sendRequest(t, srv, http.MethodPut, "/v2/"+repository+"/manifests/"+sha256Digest(tt.manifest),
			bytes.NewReader(tt.manifest), map[string]string{"Content-Type": mediaTypeImageManifest})
		if err != nil {
			t.Fatalf("%s: PUT manifest: %v", tt.name, err)
		}
		errs := decodeJSON[struct {
			Errors []struct{ Code, Message string } `json:"errors"`
		}](t, "OCI error", body)
		if resp.StatusCode != http.StatusBadRequest || len(errs.Errors) != 1 || errs.Errors[0].Code != tt.code || !strings.Contains(errs.Errors[0].Message, tt.message) {
			t.Errorf("%s: status %d, body %s, expected 400 %s with %q", tt.name, resp.StatusCode, body, tt.code, tt.message)
		}
	}
}

// fileArtifactManifest pushes a random layer and returns an artifact manifest for it, which
// the test pushes as the subject of its referrers.
func fileArtifactManifest(t *testing.T, srv *server, repository string) []byte {
	t.Helper()
	layer := randomText(t, 256)
	pushBlob(t, srv, repository, []byte("{}"))
	pushBlob(t, srv, repository, layer)
	return jsonBody(t, map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaTypeImageManifest,
		"artifactType":  "application/vnd.example.file.v1",
		"config":        descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: emptyConfigDigest, Size: 2},
		"layers":        []descriptor{{MediaType: "application/octet-stream", Digest: sha256Digest(layer), Size: int64(len(layer))}},
	})
}

// referrerManifest returns the referrer manifest of subject that carries doc as its one
// layer.
func referrerManifest(doc badDocument, subject descriptor) map[string]any {
	layerType := doc.layerType
	if layerType == "" {
		layerType = doc.artifactType
	}
	manifest := map[string]any{
		"schemaVersion": 2,
		"mediaType":     mediaTypeImageManifest,
		"artifactType":  doc.artifactType,
		"config":        descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: emptyConfigDigest, Size: 2},
		"layers":        []descriptor{{MediaType: layerType, Digest: sha256Digest(doc.content), Size: int64(len(doc.content))}},
		"subject":       subject,
	}
	if len(doc.annotations) > 0 {
		manifest["annotations"] = doc.annotations
	}
	return manifest
}
