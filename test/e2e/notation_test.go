package e2e

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	notationArtifactType = "application/vnd.cncf.notary.signature"
	// notationThumbprints is the manifest annotation in which notation lists the SHA-256
	// fingerprints of the signing certificate chain.
	notationThumbprints = "io.cncf.notary.x509chain.thumbprint#S256"
	// notationTestSubject is the subject of the certificates that `notation cert
	// generate-test demo.example` writes, as Coffer reports the signer.
	notationTestSubject = "CN=demo.example,O=Notary,L=Seattle,ST=WA,C=US"
)

// newNotationToolbox is newToolbox with the root credentials in the variables that
// notation reads for every registry command, and without NOTATION_* settings from the
// developer's shell. notation keeps its keys, trust store and trust policy in
// $XDG_CONFIG_HOME/notation, which is private to the returned toolbox.
func newNotationToolbox(t *testing.T, srv *server) *toolbox {
	t.Helper()
	tb := newToolbox(t, srv)
	tb.env = slices.DeleteFunc(tb.env, func(entry string) bool { return strings.HasPrefix(entry, "NOTATION_") })
	tb.env = append(tb.env, "NOTATION_USERNAME="+rootUser, "NOTATION_PASSWORD="+rootPassword)
	return tb
}

// generateTestCertificate runs `notation cert generate-test`, which writes an RSA key and a
// self-signed certificate, makes the key the default signing key and adds the certificate to
// the trust store ca:<name>. It returns the certificate in PEM form.
func (tb *toolbox) generateTestCertificate(name string) []byte {
	tb.t.Helper()
	out := tb.runText("notation", "cert", "generate-test", "--default", name)
	if !strings.Contains(out, "Successfully added "+name+".crt to named store "+name+" of type ca") {
		tb.t.Errorf("notation cert generate-test printed:\n%s\nexpected it to add the certificate to trust store ca:%s", out, name)
	}
	return readFile(tb.t, filepath.Join(tb.configHome(), "notation", "localkeys", name+".crt"))
}

// importTrustPolicy writes a notation trust policy that trusts the certificates of the trust
// store ca:<store> for the repositories, at the strict level, and imports it.
func (tb *toolbox) importTrustPolicy(store string, repositories ...string) {
	tb.t.Helper()
	var scopes []string
	for _, repository := range repositories {
		scopes = append(scopes, tb.srv.ref(repository))
	}
	policy := jsonBody(tb.t, map[string]any{
		"version": "1.0",
		"trustPolicies": []map[string]any{{
			"name":                  "e2e",
			"registryScopes":        scopes,
			"signatureVerification": map[string]string{"level": "strict"},
			"trustStores":           []string{"ca:" + store},
			"trustedIdentities":     []string{"*"},
		}},
	})
	path := writeFile(tb.t, tb.t.TempDir(), "trustpolicy.json", policy)
	out := tb.runText("notation", "policy", "import", path, "--force")
	if !strings.Contains(out, "Trust policy configuration imported successfully") {
		tb.t.Errorf("notation policy import printed %q", out)
	}
}

// configHome returns the XDG_CONFIG_HOME that the toolbox's clients use.
func (tb *toolbox) configHome() string {
	for _, entry := range tb.env {
		if value, found := strings.CutPrefix(entry, "XDG_CONFIG_HOME="); found {
			return value
		}
	}
	tb.t.Fatal("the toolbox environment has no XDG_CONFIG_HOME")
	return ""
}

// notationSign signs reference with the default key and returns the digest of the signature
// manifest, which is the referrer of the subject that was not there before.
func (tb *toolbox) notationSign(reference string, args ...string) string {
	tb.t.Helper()
	repository, subject, _ := strings.Cut(strings.TrimPrefix(reference, tb.srv.addr+"/"), "@")
	before := referrerDigests(tb.t, tb.srv, repository, subject, "")

	args = append(append([]string{"sign", "--insecure-registry"}, args...), reference)
	if out := tb.runText("notation", args...); out != "Successfully signed "+reference {
		tb.t.Errorf("notation %s printed %q", strings.Join(args, " "), out)
	}
	added := slices.DeleteFunc(referrerDigests(tb.t, tb.srv, repository, subject, ""), func(d string) bool { return slices.Contains(before, d) })
	if len(added) != 1 {
		tb.t.Fatalf("notation sign added referrers %q to %s, expected one signature", added, subject)
	}
	return added[0]
}

// referrersIndex is the response of the referrers API.
type referrersIndex struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// referrers returns the referrers of subject in repository through the OCI API, filtered by
// artifactType unless it is empty.
func referrers(t *testing.T, srv *server, repository, subject, artifactType string) referrersIndex {
	t.Helper()
	path := "/v2/" + repository + "/referrers/" + subject
	if artifactType != "" {
		path += "?artifactType=" + url.QueryEscape(artifactType)
	}
	resp, body := send(t, srv, http.MethodGet, path, nil, nil, http.StatusOK)
	if artifactType != "" && resp.Header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Errorf("GET %s: OCI-Filters-Applied = %q, expected artifactType", path, resp.Header.Get("OCI-Filters-Applied"))
	}
	return decodeJSON[referrersIndex](t, "referrers of "+subject, body)
}

// referrerDigests returns the sorted digests of the referrers of subject in repository.
func referrerDigests(t *testing.T, srv *server, repository, subject, artifactType string) []string {
	t.Helper()
	var digests []string
	for _, m := range referrers(t, srv, repository, subject, artifactType).Manifests {
		digests = append(digests, m.Digest)
	}
	slices.Sort(digests)
	return digests
}

// putNotationTrustStore creates or replaces the trust store name with one notation
// certificate for the repositories that the glob matches, and a policy unless it is nil. It
// returns the SHA-256 fingerprints that Coffer computed for the certificate.
func putNotationTrustStore(t *testing.T, srv *server, name, repositories string, certificate []byte, policy map[string]any) []string {
	t.Helper()
	definition := map[string]any{
		"scope":                 map[string]string{"repositories": repositories},
		"notation_certificates": []map[string]string{{"name": name, "pem": string(certificate)}},
		"notation_policy":       map[string]any{"level": "strict", "trusted_identities": []string{"*"}},
	}
	if policy != nil {
		definition["policy"] = policy
	}
	_, body := send(t, srv, http.MethodPut, "/api/v1/trust/"+name, jsonBody(t, definition), nil, http.StatusOK, http.StatusCreated)
	return decodeJSON[struct {
		Fingerprints []string `json:"notation_certificate_fingerprints"`
	}](t, "trust store "+name, body).Fingerprints
}

// TestNotationSignVerify signs an image and a file artifact with the real notation CLI in
// both envelope formats, and lists and verifies the signatures with notation. It checks the
// trust status Coffer reports with the test certificate as trust anchor and with another one.
func TestNotationSignVerify(t *testing.T) {
	srv := startCoffer(t)
	tb := newNotationToolbox(t, srv)
	tb.craneLogin()
	tb.orasLogin()

	image, _, _ := pushRandomImage(t, tb, srv.ref("demo/app:v1"))
	file := tb.pushFileArtifact(t.TempDir(), srv.ref("demo/files:report"))

	certificate := tb.generateTestCertificate("demo.example")
	tb.importTrustPolicy("demo.example", "demo/app", "demo/files")
	imageRef := srv.ref("demo/app@" + image)
	stderr := tb.mustFail("notation", "verify", "--insecure-registry", imageRef)
	if !strings.Contains(stderr, "no signature is associated with") {
		t.Errorf("notation verify of an unsigned image printed %q, expected it to find no signature", stderr)
	}

	// The JWS signature goes through the referrers tag schema (notation's default), the COSE
	// one only through the referrers API.
	jws := tb.notationSign(imageRef, "--signature-format", "jws")
	cose := tb.notationSign(imageRef, "--signature-format", "cose", "--force-referrers-tag=false")
	fileSignature := tb.notationSign(srv.ref("demo/files@"+file), "--signature-format", "jws")

	// notation ls prints the reference, then a tree of the signatures under their artifact type.
	listing := tb.runLines("notation", "ls", "--insecure-registry", imageRef)
	listed := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindAllString(strings.Join(listing[1:], "\n"), -1)
	slices.Sort(listed)
	if want := sortedStrings(jws, cose); listing[0] != imageRef || !slices.Equal(listed, want) {
		t.Errorf("notation ls printed %q, expected %s and the signatures %q", listing, imageRef, want)
	}
	for _, reference := range []string{imageRef, srv.ref("demo/files@" + file)} {
		if out := tb.runText("notation", "verify", "--insecure-registry", reference); out != "Successfully verified signature for "+reference {
			t.Errorf("notation verify %s printed %q", reference, out)
		}
	}
	if got := tb.runLines("crane", "ls", "--insecure", srv.ref("demo/app")); !slices.Equal(got, []string{"sha256-" + strings.TrimPrefix(image, "sha256:"), "v1"}) {
		t.Errorf("tags of demo/app = %q, expected the referrers tag schema index and v1", got)
	}

	// notation 1.3.2 writes the signature manifest with the config media type as its only
	// type. The referrers API and oras discover must report that type.
	signature := decodeJSON[manifest](t, "notation signature manifest", tb.run("oras", "manifest", "fetch", "--plain-http", srv.ref("demo/app@"+jws)))
	if signature.ArtifactType != "" || signature.Config.MediaType != notationArtifactType {
		t.Errorf("notation signature manifest has artifactType %q and config media type %q, expected none and %s",
			signature.ArtifactType, signature.Config.MediaType, notationArtifactType)
	}
	discovered := decodeJSON[orasReferrer](t, "oras discover output", tb.run("oras", "discover", "--plain-http", "--format", "json",
		"--artifact-type", notationArtifactType, imageRef))
	var discoveredDigests []string
	for _, r := range discovered.Referrers {
		discoveredDigests = append(discoveredDigests, r.Digest)
		if r.ArtifactType != notationArtifactType {
			t.Errorf("oras discover lists %s with artifact type %q, expected %s", r.Digest, r.ArtifactType, notationArtifactType)
		}
	}
	slices.Sort(discoveredDigests)
	if want := sortedStrings(jws, cose); !slices.Equal(discoveredDigests, want) {
		t.Errorf("oras discover --artifact-type %s listed %q, expected %q", notationArtifactType, discoveredDigests, want)
	}

	status := artifactTrust(t, srv, image)
	if !status.Signed || status.Verified || len(status.Signatures) != 2 {
		t.Fatalf("trust status without a trust store = %+v, expected 2 signatures, none verified", status)
	}
	for _, s := range status.Signatures {
		if want := "no trust store with notation certificates covers repository demo/app"; !strings.Contains(s.Error, want) {
			t.Errorf("signature %s without a trust store: error %q, expected it to contain %q", s.Manifest, s.Error, want)
		}
	}

	fingerprints := putNotationTrustStore(t, srv, "demo", "demo/*", certificate, nil)
	for _, r := range referrers(t, srv, "demo/app", image, notationArtifactType).Manifests {
		if want := jsonBody(t, fingerprints); r.Annotations[notationThumbprints] != string(want) {
			t.Errorf("signature %s has thumbprints %s, expected the fingerprints of the trust store %s", r.Digest, r.Annotations[notationThumbprints], want)
		}
	}
	status = artifactTrust(t, srv, image)
	formats := map[string]string{jws: "notation-jws", cose: "notation-cose"}
	checkNotationVerified(t, status, formats)
	checkNotationVerified(t, artifactTrust(t, srv, file), map[string]string{fileSignature: "notation-jws"})

	// A trust store with another test CA does not verify the signatures, and each error
	// names the reason.
	other := newNotationToolbox(t, srv).generateTestCertificate("other.example")
	putNotationTrustStore(t, srv, "demo", "demo/*", other, nil)
	status = artifactTrust(t, srv, image)
	if !status.Signed || status.Verified || len(status.Signatures) != 2 {
		t.Fatalf("trust status with another CA = %+v, expected 2 signatures, none verified", status)
	}
	for _, s := range status.Signatures {
		want := `notation signature by "` + notationTestSubject + `": signer is not trusted: the certificate chain does not lead to a trust anchor`
		if s.Verified || !strings.Contains(s.Error, want) {
			t.Errorf("signature %s with another CA: verified %v, error %q, expected it to contain %q", s.Manifest, s.Verified, s.Error, want)
		}
	}
}

// checkNotationVerified checks that status lists exactly the signatures in formats (manifest
// digest to format), each verified by the test certificate through trust store demo.
func checkNotationVerified(t *testing.T, status trustStatus, formats map[string]string) {
	t.Helper()
	if !status.Signed || !status.Verified || len(status.Signatures) != len(formats) {
		t.Fatalf("trust status of %s = %+v, expected %d verified signatures", status.Digest, status, len(formats))
	}
	for _, s := range status.Signatures {
		if s.Format != formats[s.Manifest] || s.Tool != "notation" {
			t.Errorf("signature %s: tool %q, format %q, expected notation, %q", s.Manifest, s.Tool, s.Format, formats[s.Manifest])
		}
		if !s.Verified || s.Signer != notationTestSubject || s.TrustStore != "demo" || s.Error != "" {
			t.Errorf("signature %s: verified %v by %q in trust store %q (error %q), expected verified by %q in demo",
				s.Manifest, s.Verified, s.Signer, s.TrustStore, s.Error, notationTestSubject)
		}
	}
}

// TestNotationPolicyEnforced pulls an image in a scope whose policy requires a signature
// that the notation test certificate verifies. The pull is denied while the image is
// unsigned or signed by another CA, and served once notation signed it. notation can sign
// it a second time under the policy.
func TestNotationPolicyEnforced(t *testing.T) {
	srv := startCoffer(t)
	tb := newNotationToolbox(t, srv)
	tb.craneLogin()

	image, _, _ := pushRandomImage(t, tb, srv.ref("prod/app:v1"))
	certificate := tb.generateTestCertificate("demo.example")
	tb.importTrustPolicy("demo.example", "prod/app")
	policy := map[string]any{"mode": "enforce", "require_signature": true}
	putNotationTrustStore(t, srv, "prod", "prod/*", certificate, policy)

	resp, body := srv.get(t, "/v2/prod/app/manifests/"+image, manifestMediaTypes, true)
	want := "pull of repository prod/app (" + image + ") is denied by the policy of trust store prod: missing a signature verified by trust store prod (the digest has no signature)"
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), want) {
		t.Errorf("pull of the unsigned image: status %d, body %s, expected 403 with %q", resp.StatusCode, body, want)
	}
	if stderr := tb.mustFail("crane", "manifest", "--insecure", srv.ref("prod/app:v1")); !strings.Contains(stderr, "DENIED") {
		t.Errorf("crane manifest of the unsigned image printed %q, expected DENIED", stderr)
	}

	// Both signatures use the referrers tag schema: the second sign reads the
	// sha256-<hex> index, which the policy must not deny.
	imageRef := srv.ref("prod/app@" + image)
	tb.notationSign(imageRef, "--signature-format", "jws")
	if status := srv.manifestStatus(t, "prod/app", image); status != http.StatusOK {
		t.Errorf("pull of the signed image: status %d, expected 200", status)
	}
	tb.notationSign(imageRef, "--signature-format", "cose")
	if out := tb.runText("notation", "verify", "--insecure-registry", imageRef); out != "Successfully verified signature for "+imageRef {
		t.Errorf("notation verify printed %q", out)
	}
	tb.runText("crane", "manifest", "--insecure", srv.ref("prod/app:v1"))

	other := newNotationToolbox(t, srv).generateTestCertificate("other.example")
	putNotationTrustStore(t, srv, "prod", "prod/*", other, policy)
	resp, body = srv.get(t, "/v2/prod/app/manifests/"+image, manifestMediaTypes, true)
	want = "missing a signature verified by trust store prod (2 signatures, none verified by it: "
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), want) || !strings.Contains(string(body), "does not lead to a trust anchor") {
		t.Errorf("pull of the image signed by another CA: status %d, body %s, expected 403 with %q and the reason", resp.StatusCode, body, want)
	}
}

// sortedStrings returns values in sorted order.
func sortedStrings(values ...string) []string {
	return slices.Sorted(slices.Values(values))
}

// vectorFile returns a file recorded from the real clients, kept in the supplychain
// package's test data.
func vectorFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(supplyChainVectors, name))
	if err != nil {
		t.Fatalf("read recorded vector: %v", err)
	}
	return data
}
