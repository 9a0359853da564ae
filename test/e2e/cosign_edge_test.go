package e2e

import (
	"strings"
	"testing"
)

// TestCosignSignatureTagBeforeSubject copies a cosign `.sig` manifest into a repository
// before its subject, which the tag scheme allows because the manifest has no subject field.
// The signature counts there, and cosign verifies it once the subject arrives.
func TestCosignSignatureTagBeforeSubject(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	cosign := newCosignClient(tb, "cosign-v2", false)
	putTrustStoreE2E(t, srv, "edge", cosignKeyStore(map[string]string{"repositories": "edge/*"}, cosign.publicKey(), ""))

	digest, _, _ := pushRandomImage(t, tb, srv.ref("edge/source:v1"))
	cosign.sign(srv.ref("edge/source@" + digest))
	sigTag := strings.Replace(digest, ":", "-", 1) + ".sig"
	tb.run("crane", "copy", "--insecure", srv.ref("edge/source:"+sigTag), srv.ref("edge/early:"+sigTag))
	if status := srv.manifestStatus(t, "edge/early", digest); status != 404 {
		t.Fatalf("GET of the subject in edge/early = %d before it was copied, expected 404", status)
	}

	status := artifactTrust(t, srv, digest)
	verifiedIn := map[string]bool{}
	for _, signature := range status.Signatures {
		verifiedIn[signature.Repository] = signature.Verified && signature.Tag == sigTag
	}
	if len(status.Signatures) != 2 || !verifiedIn["edge/source"] || !verifiedIn["edge/early"] {
		t.Errorf("signatures of %s = %+v, expected the %s tag verified in edge/source and edge/early", digest, status.Signatures, sigTag)
	}

	tb.run("crane", "copy", "--insecure", srv.ref("edge/source@"+digest), srv.ref("edge/early:v1"))
	cosign.verify(srv.ref("edge/early@" + digest))
}

// TestCosignDigestShapedTag checks that a tag named like cosign's fallback index,
// sha256-<hex>, is only ever a tag: it does not resolve to the manifest with that digest, and
// once pushed it names its own manifest.
func TestCosignDigestShapedTag(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()

	digest, _, _ := pushRandomImage(t, tb, srv.ref("edge/tags:v1"))
	digestTag := strings.Replace(digest, ":", "-", 1)
	if status := srv.manifestStatus(t, "edge/tags", digestTag); status != 404 {
		t.Errorf("GET manifests/%s = %d before such a tag exists, expected 404", digestTag, status)
	}
	stderr := tb.mustFail("crane", "digest", "--insecure", srv.ref("edge/tags:"+digestTag))
	if !strings.Contains(stderr, "MANIFEST_UNKNOWN") {
		t.Errorf("crane digest of tag %s printed:\n%s\nexpected MANIFEST_UNKNOWN", digestTag, stderr)
	}

	tagged, _, _ := pushRandomImage(t, tb, srv.ref("edge/tags:"+digestTag))
	if got := tb.runText("crane", "digest", "--insecure", srv.ref("edge/tags:"+digestTag)); got != tagged {
		t.Errorf("crane digest of tag %s = %s, expected the manifest pushed under that tag, %s", digestTag, got, tagged)
	}
	if got := tb.runText("crane", "digest", "--insecure", srv.ref("edge/tags@"+digest)); got != digest {
		t.Errorf("crane digest of %s = %s after the tag was pushed", digest, got)
	}
}

// TestCosignArtifactOnIndex attaches an artifact to an index with oras and with a cosign v3
// bundle signature: both push a manifest with an artifactType and an index as its subject.
func TestCosignArtifactOnIndex(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	tb.orasLogin()
	cosign := newCosignClient(tb, "cosign-v3", true)
	putTrustStoreE2E(t, srv, "edge", cosignKeyStore(map[string]string{"repositories": "edge/*"}, cosign.publicKey(), ""))

	child, _, _ := pushRandomImage(t, tb, srv.ref("edge/index:child"))
	index := pushIndex(t, tb, srv, "edge/index:v1", child)

	dir := t.TempDir()
	writeFile(t, dir, "report.txt", randomText(t, 256))
	const artifactType = "application/vnd.example.report.v1"
	attached := decodeJSON[orasReferrer](t, "oras attach output", tb.must(invocation{dir: dir, name: "oras", args: []string{
		"attach", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", artifactType,
		srv.ref("edge/index@" + index), "report.txt:text/plain",
	}}))
	cosign.sign(srv.ref("edge/index@" + index))

	discovered := decodeJSON[orasReferrer](t, "oras discover output", tb.run("oras", "discover", "--plain-http", "--format", "json",
		"--artifact-type", artifactType, srv.ref("edge/index@"+index)))
	if len(discovered.Referrers) != 1 || discovered.Referrers[0].Digest != attached.Digest {
		t.Errorf("oras discover --artifact-type %s = %+v, expected only %s", artifactType, discovered.Referrers, attached.Digest)
	}
	cosign.verify(srv.ref("edge/index@" + index))
	checkCosignTrust(t, srv, index, "edge", true, false)
}
