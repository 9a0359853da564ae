package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	spdxArtifactType      = "application/spdx+json"
	cycloneDXArtifactType = "application/vnd.cyclonedx+json"
	emptyConfigDigest     = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
)

// TestOrasAttachArtifactTypes attaches an SPDX and a CycloneDX SBOM with oras to an image and
// to a file artifact, and checks that oras discover and the referrers API filter by
// artifact type to exactly the matching referrers.
func TestOrasAttachArtifactTypes(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	tb.orasLogin()

	dir := t.TempDir()
	writeFile(t, dir, "sbom.spdx.json", vectorFile(t, "sbom.spdx.json"))
	writeFile(t, dir, "sbom.cdx.json", vectorFile(t, "sbom.cdx.json"))
	image, _, _ := pushRandomImage(t, tb, srv.ref("e2e/image:v1"))
	file := tb.pushFileArtifact(dir, srv.ref("e2e/file:v1"))

	for _, subject := range []struct{ repository, digest string }{{"e2e/image", image}, {"e2e/file", file}} {
		reference := srv.ref(subject.repository + "@" + subject.digest)
		attach := func(artifactType, name string, extra ...string) string {
			args := append([]string{"attach", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", artifactType}, extra...)
			args = append(args, reference, name+":"+artifactType)
			return decodeJSON[orasReferrer](t, "oras attach output", tb.must(invocation{dir: dir, name: "oras", args: args})).Digest
		}
		spdx := attach(spdxArtifactType, "sbom.spdx.json", "--annotation", "org.opencontainers.image.description=SPDX SBOM")
		cyclonedx := attach(cycloneDXArtifactType, "sbom.cdx.json")

		for _, tt := range []struct {
			artifactType string
			want         []string
		}{
			{spdxArtifactType, []string{spdx}},
			{cycloneDXArtifactType, []string{cyclonedx}},
			{"application/vnd.example.none", nil},
			{"", sortedStrings(spdx, cyclonedx)},
		} {
			args := []string{"discover", "--plain-http", "--format", "json"}
			if tt.artifactType != "" {
				args = append(args, "--artifact-type", tt.artifactType)
			}
			discovered := decodeJSON[orasReferrer](t, "oras discover output", tb.run("oras", append(args, reference)...))
			var got []string
			for _, r := range discovered.Referrers {
				got = append(got, r.Digest)
				if tt.artifactType != "" && r.ArtifactType != tt.artifactType {
					t.Errorf("oras discover --artifact-type %s on %s lists %s of type %s", tt.artifactType, subject.repository, r.Digest, r.ArtifactType)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("oras discover --artifact-type %q on %s listed %q, expected %q", tt.artifactType, subject.repository, got, tt.want)
			}
			if api := referrerDigests(t, srv, subject.repository, subject.digest, tt.artifactType); !slices.Equal(api, tt.want) {
				t.Errorf("referrers API with artifactType %q on %s listed %q, expected %q", tt.artifactType, subject.repository, api, tt.want)
			}
		}
	}
}

// TestOrasDiscoverNotationConfigForm pushes the recorded notation JWS signature with oras in
// the form notation 1.3.2 writes it, without a top-level artifactType and with the config
// media type application/vnd.cncf.notary.signature, as a referrer of an image. oras discover
// must report the config media type as its artifact type.
func TestOrasDiscoverNotationConfigForm(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	tb.orasLogin()

	image, _, _ := pushRandomImage(t, tb, srv.ref("e2e/signed:v1"))
	imageManifest := tb.run("crane", "manifest", "--insecure", srv.ref("e2e/signed:v1"))
	recorded := compactJSON(t, vectorFile(t, "notation-sig-manifest-jws.json"))
	var signature map[string]any
	if err := json.Unmarshal(recorded, &signature); err != nil {
		t.Fatalf("decode recorded notation manifest: %v", err)
	}
	if _, found := signature["artifactType"]; found {
		t.Fatalf("the recorded notation manifest has an artifactType, expected the config media type form")
	}
	signature["subject"] = map[string]any{"mediaType": mediaTypeImageManifest, "digest": image, "size": len(imageManifest)}

	dir := t.TempDir()
	writeFile(t, dir, "config.json", []byte("{}"))
	writeFile(t, dir, "signature.jws", vectorFile(t, "notation-envelope.jws.json"))
	writeFile(t, dir, "manifest.json", jsonBody(t, signature))
	for _, name := range []string{"config.json", "signature.jws"} {
		tb.must(invocation{dir: dir, name: "oras", args: []string{"blob", "push", "--plain-http", "--no-tty", srv.ref("e2e/signed"), name}})
	}
	tb.must(invocation{dir: dir, name: "oras", args: []string{
		"manifest", "push", "--plain-http", "--media-type", mediaTypeImageManifest, srv.ref("e2e/signed"), "manifest.json",
	}})
	pushed := sha256Digest(jsonBody(t, signature))

	reference := srv.ref("e2e/signed@" + image)
	for _, args := range [][]string{{}, {"--artifact-type", notationArtifactType}} {
		args = append(append([]string{"discover", "--plain-http", "--format", "json"}, args...), reference)
		discovered := decodeJSON[orasReferrer](t, "oras discover output", tb.run("oras", args...))
		if len(discovered.Referrers) != 1 || discovered.Referrers[0].Digest != pushed || discovered.Referrers[0].ArtifactType != notationArtifactType {
			t.Errorf("oras %s listed %+v, expected only %s of type %s", strings.Join(args, " "), discovered.Referrers, pushed, notationArtifactType)
		}
	}
	got := referrers(t, srv, "e2e/signed", image, "").Manifests
	if len(got) != 1 || got[0].Annotations[notationThumbprints] != signature["annotations"].(map[string]any)[notationThumbprints] {
		t.Errorf("referrers = %+v, expected the signature with its %s annotation", got, notationThumbprints)
	}
}

// recordedReferrer is one referrer manifest of the recorded demo images that can be pushed
// again: the manifest, with the digest the recording lists, and the blobs it needs.
type recordedReferrer struct {
	manifest []byte
	blobs    []string // vector files
}

// TestReferrersMatchRecorded pushes every recorded referrer of the demo images whose blobs the
// recording kept, and compares the referrers API response with the one recorded on the
// demo registry. Three manifests were not recorded verbatim but differ from a recorded one
// only in the fields whose values are recorded elsewhere: they are rebuilt and must hash to
// the recorded digest.
//
// Not reproducible, because the recording kept neither the manifest nor its blob (a
// Sigstore bundle or a notation envelope):
//   - demo/app2: the cosign v2 CycloneDX and SPDX attestations (sha256:02211970…,
//     sha256:d6534352…) and the notation signature (sha256:05f9fb07…);
//   - demo/app3: the cosign v3 SLSA provenance and CycloneDX attestations (sha256:86da280f…,
//     sha256:a946460e…).
func TestReferrersMatchRecorded(t *testing.T) {
	srv := startCoffer(t)

	jwsManifest := compactJSON(t, vectorFile(t, "notation-sig-manifest-jws.json"))
	spdxManifest := vectorFile(t, "oras-attach-spdx-referrer-manifest.json")
	v3SignManifest := compactJSON(t, vectorFile(t, "cosign-v3-bundle-referrer-manifest.json"))
	replace := func(content []byte, oldNew ...string) []byte {
		return []byte(strings.NewReplacer(oldNew...).Replace(string(content)))
	}
	blobRef := func(name string) string { return sha256Digest(vectorFile(t, name)) }
	sizeOf := func(name string) string { return `"size":` + strconv.Itoa(len(vectorFile(t, name))) }

	recorded := []struct {
		repository, subject, expected string
		referrers                     []recordedReferrer
	}{
		{"demo/app", "sha256:1d4846b0cca977b47f510aeca85eb6c36c39c4a351e8bc2486eac652debbf5e2", "expected-referrers-app.json", []recordedReferrer{
			{jwsManifest, []string{"notation-envelope.jws.json"}},
			{replace(jwsManifest, "application/jose+json", "application/cose",
				blobRef("notation-envelope.jws.json"), blobRef("notation-envelope.cose"),
				sizeOf("notation-envelope.jws.json"), sizeOf("notation-envelope.cose")), []string{"notation-envelope.cose"}},
			{spdxManifest, []string{"sbom.spdx.json"}},
			{replace(spdxManifest, spdxArtifactType, cycloneDXArtifactType,
				blobRef("sbom.spdx.json"), blobRef("sbom.cdx.json"), sizeOf("sbom.spdx.json"), sizeOf("sbom.cdx.json"),
				"sbom.spdx.json", "sbom.cdx.json", `,"org.opencontainers.image.description":"SPDX SBOM"`, ""), []string{"sbom.cdx.json"}},
		}},
		{"demo/app2", "sha256:844d5f7ea77b3dcfabf293ad44068ea89c1cdb0a8943baabded6e31eb30f3449", "expected-referrers-app2.json", []recordedReferrer{
			{compactJSON(t, vectorFile(t, "cosign-v2-bundle-referrer-manifest.json")), []string{"cosign-v2-image-sign-bundle.json"}},
		}},
		{"demo/app3", "sha256:280feef4b873254a2bbbbb8b41c0b21228727acf693a3775d68f69b91b13cd4a", "expected-referrers-app3.json", []recordedReferrer{
			{v3SignManifest, []string{"cosign-v3-image-sign-bundle.json"}},
			{replace(v3SignManifest, blobRef("cosign-v3-image-sign-bundle.json"), blobRef("cosign-v3-attest-spdx-bundle.json"),
				sizeOf("cosign-v3-image-sign-bundle.json"), sizeOf("cosign-v3-attest-spdx-bundle.json"),
				"https://sigstore.dev/cosign/sign/v1", "https://spdx.dev/Document",
				"2026-12-04T19:44:15Z", "2026-12-04T19:44:28Z"), []string{"cosign-v3-attest-spdx-bundle.json"}},
		}},
	}

	for _, r := range recorded {
		expected := decodeJSON[map[string]any](t, r.expected, vectorFile(t, r.expected))
		listed := map[string]any{}
		for _, m := range expected["manifests"].([]any) {
			listed[m.(map[string]any)["digest"].(string)] = m
		}

		var want []any
		pushBlob(t, srv, r.repository, []byte("{}"))
		for _, referrer := range r.referrers {
			for _, name := range referrer.blobs {
				pushBlob(t, srv, r.repository, vectorFile(t, name))
			}
			d := pushManifest(t, srv, r.repository, referrer.manifest)
			if listed[d] == nil {
				t.Fatalf("pushed manifest %s is not in %s:\n%s", d, r.expected, referrer.manifest)
			}
			want = append(want, listed[d])
		}
		t.Logf("%s: %d of the %d recorded referrers reproduced", r.repository, len(want), len(listed))

		_, body := send(t, srv, http.MethodGet, "/v2/"+r.repository+"/referrers/"+r.subject, nil, nil, http.StatusOK)
		got := decodeJSON[map[string]any](t, "referrers response", body)
		// The distribution spec sets no order for the referrers list, so both are sorted.
		byDigest := func(a, b any) int {
			return strings.Compare(a.(map[string]any)["digest"].(string), b.(map[string]any)["digest"].(string))
		}
		manifests, _ := got["manifests"].([]any)
		slices.SortFunc(manifests, byDigest)
		slices.SortFunc(want, byDigest)
		expected["manifests"] = want
		if !reflect.DeepEqual(got, expected) {
			t.Errorf("referrers of %s in %s:\n got %s\nwant %s", r.subject, r.repository, body, jsonBody(t, expected))
		}
	}

	// The cosign key of the recording verifies the cosign signature and attestation of
	// demo/app3, and the attested SPDX document counts as a valid SBOM.
	definition := map[string]any{
		"scope":       map[string]string{"repositories": "demo/**"},
		"cosign_keys": []map[string]string{{"name": "ci", "pem": string(vectorFile(t, "cosign.pub"))}},
	}
	send(t, srv, http.MethodPut, "/api/v1/trust/demo", jsonBody(t, definition), nil, http.StatusCreated)
	status := artifactTrust(t, srv, recorded[2].subject)
	if len(status.Signatures) != 1 || !status.Signatures[0].Verified || status.Signatures[0].Signer != "demo/ci" {
		t.Errorf("signatures of demo/app3 = %+v, expected one verified by demo/ci", status.Signatures)
	}
	if len(status.Attestations) != 1 || !status.Attestations[0].Verified || status.Attestations[0].PredicateType != "https://spdx.dev/Document" {
		t.Errorf("attestations of demo/app3 = %+v, expected a verified SPDX attestation", status.Attestations)
	}
	if len(status.SBOMs) != 1 || !status.SBOMs[0].Valid || status.SBOMs[0].Packages != 1 {
		t.Errorf("SBOMs of demo/app3 = %+v, expected the attested SPDX document, valid with 1 package", status.SBOMs)
	}
}

// pushBlob uploads data to repository in one POST request.
func pushBlob(t *testing.T, srv *server, repository string, data []byte) {
	t.Helper()
	send(t, srv, http.MethodPost, "/v2/"+repository+"/blobs/uploads/?digest="+sha256Digest(data), data,
		map[string]string{"Content-Type": "application/octet-stream"}, http.StatusCreated)
}

// pushManifest stores an OCI image manifest in repository by its digest and returns the
// digest.
func pushManifest(t *testing.T, srv *server, repository string, content []byte) string {
	t.Helper()
	d := sha256Digest(content)
	send(t, srv, http.MethodPut, "/v2/"+repository+"/manifests/"+d, content,
		map[string]string{"Content-Type": mediaTypeImageManifest}, http.StatusCreated)
	return d
}

// pushFileArtifact writes a random report.bin into dir, pushes it with oras as a generic
// file artifact to reference and returns the manifest digest.
func (tb *toolbox) pushFileArtifact(dir, reference string) string {
	tb.t.Helper()
	writeFile(tb.t, dir, "report.bin", randomText(tb.t, 512))
	out := tb.must(invocation{dir: dir, name: "oras", args: []string{
		"push", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", "application/vnd.example.file.v1",
		reference, "report.bin:application/octet-stream",
	}})
	return decodeJSON[orasReferrer](tb.t, "oras push output", out).Digest
}

// compactJSON returns data without insignificant white space, which turns a recorded
// manifest that was indented for reading back into the bytes the client pushed.
func compactJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		t.Fatalf("compact JSON: %v", err)
	}
	return buf.Bytes()
}
