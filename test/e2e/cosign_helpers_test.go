package e2e

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// cosignPassword encrypts the private keys that `cosign generate-key-pair` writes in the
// tests. cosign reads it from COSIGN_PASSWORD instead of prompting.
const cosignPassword = "e2e-cosign-key-password"

// supplyChainVectors is the folder of recorded signatures, SBOMs and predicates that the
// supplychain package tests with.
var supplyChainVectors = filepath.Join("..", "..", "internal", "supplychain", "testdata", "vectors")

// Predicate types that `cosign attest` writes for --type spdxjson, cyclonedx and
// slsaprovenance1 (cosign v2.6.5 and v3.1.3).
const (
	predicateSPDX      = "https://spdx.dev/Document"
	predicateCycloneDX = "https://cyclonedx.org/bom"
	predicateSLSA1     = "https://slsa.dev/provenance/v1"
)

// cosignAttestations are the attestations the image tests make: the `cosign attest --type`,
// the predicate file in supplyChainVectors and the predicate type cosign writes for it.
var cosignAttestations = []struct{ kind, predicate, predicateType string }{
	{"spdxjson", "sbom.spdx.json", predicateSPDX},
	{"cyclonedx", "sbom.cdx.json", predicateCycloneDX},
	{"slsaprovenance1", "slsa-provenance-v1.json", predicateSLSA1},
}

// cosignClient runs one cosign release offline against a test server: a key pair from
// `cosign generate-key-pair`, no transparency log and plain HTTP.
type cosignClient struct {
	tb     *toolbox
	binary string // cosign-v2 or cosign-v3 in the tools folder
	bundle bool   // sign with Sigstore bundle referrers instead of cosign's legacy tag scheme
	dir    string // working folder with cosign.key, cosign.pub and empty-trusted-root.json
}

// newCosignClient generates a key pair with binary in a new folder, encrypted with the
// COSIGN_PASSWORD that newToolbox sets.
func newCosignClient(tb *toolbox, binary string, bundle bool) *cosignClient {
	tb.t.Helper()
	dir := tb.t.TempDir()
	tb.must(invocation{dir: dir, name: binary, args: []string{"generate-key-pair"}})
	writeFile(tb.t, dir, "empty-trusted-root.json", vectorFile(tb.t, "empty-trusted-root.json"))
	return &cosignClient{tb: tb, binary: binary, bundle: bundle, dir: dir}
}

// trustKey replaces the client's public key, which verify and verify-blob use, with the PEM
// key of another signer, such as the server.
func (c *cosignClient) trustKey(publicKey string) {
	writeFile(c.tb.t, c.dir, "cosign.pub", []byte(publicKey))
}

// verifyBlob verifies the Sigstore bundle of a local file.
func (c *cosignClient) verifyBlob(path, bundle string) {
	c.tb.t.Helper()
	c.run(append(append([]string{"verify-blob"}, c.withBundles().verificationFlags()...), "--bundle", bundle, path)...)
}

// withBundles returns a copy of the client that uses the Sigstore bundle format, the only
// one that `coffer attach` accepts for files.
func (c *cosignClient) withBundles() *cosignClient {
	bundled := *c
	bundled.bundle = true
	return &bundled
}

// publicKey returns the PEM public key of the client's key pair.
func (c *cosignClient) publicKey() string {
	return string(readFile(c.tb.t, filepath.Join(c.dir, "cosign.pub")))
}

func (c *cosignClient) v3() bool { return c.binary == "cosign-v3" }

// formatFlags selects the signature format where it is not the release's default: cosign v2
// writes legacy `.sig` and `.att` tags by default, v3 writes Sigstore bundle referrers.
func (c *cosignClient) formatFlags() []string {
	switch {
	case c.v3() && !c.bundle:
		return []string{"--new-bundle-format=false"}
	case !c.v3() && c.bundle:
		return []string{"--new-bundle-format"}
	}
	return nil
}

// signingFlags sign offline with the private key: no transparency log upload, no prompt,
// and for v3 no signing configuration from the public Sigstore instance.
func (c *cosignClient) signingFlags() []string {
	flags := []string{"--key", "cosign.key", "--tlog-upload=false", "-y"}
	if c.v3() {
		flags = append(flags, "--use-signing-config=false")
	}
	return append(flags, c.formatFlags()...)
}

// verificationFlags verify with the public key and no transparency log. Bundles are checked
// against an empty trusted root, which cosign needs but which holds no authorities.
func (c *cosignClient) verificationFlags() []string {
	flags := []string{"--key", "cosign.pub", "--insecure-ignore-tlog=true"}
	if c.v3() || c.bundle {
		flags = append(flags, "--trusted-root", "empty-trusted-root.json")
	}
	return append(flags, c.formatFlags()...)
}

// run runs cosign in the client's folder and returns its standard output.
func (c *cosignClient) run(args ...string) []byte {
	c.tb.t.Helper()
	return c.tb.must(invocation{dir: c.dir, name: c.binary, args: args})
}

// registryCommand builds `cosign <command>` for a plain-HTTP registry reference.
func registryCommand(command string, flags []string, extra ...string) []string {
	args := append([]string{command, "--allow-http-registry=true"}, flags...)
	return append(args, extra...)
}

// signCommand is the `cosign sign` invocation for ref, with extra flags such as --recursive.
func (c *cosignClient) signCommand(ref string, extra ...string) invocation {
	return invocation{dir: c.dir, name: c.binary, args: registryCommand("sign", c.signingFlags(), append(extra, ref)...)}
}

// sign signs ref and fails the test when cosign fails.
func (c *cosignClient) sign(ref string, extra ...string) {
	c.tb.t.Helper()
	c.tb.must(c.signCommand(ref, extra...))
}

// verify verifies the signature of ref and fails the test when cosign rejects it.
func (c *cosignClient) verify(ref string) {
	c.tb.t.Helper()
	c.run(registryCommand("verify", c.verificationFlags(), ref)...)
}

// attest attaches a signed attestation of kind with the predicate file from the vectors.
func (c *cosignClient) attest(ref, kind, predicate string) {
	c.tb.t.Helper()
	path, err := filepath.Abs(filepath.Join(supplyChainVectors, predicate))
	if err != nil {
		c.tb.t.Fatal(err)
	}
	c.run(registryCommand("attest", c.signingFlags(), "--type", kind, "--predicate", path, ref)...)
}

// verifyAttestation verifies the attestations of kind on ref.
func (c *cosignClient) verifyAttestation(ref, kind string) {
	c.tb.t.Helper()
	c.run(registryCommand("verify-attestation", c.verificationFlags(), "--type", kind, ref)...)
}

// tree returns the output of `cosign tree` for ref. cosign v2 lists referrers only with
// --experimental-oci11, so the flag is set for its bundle format.
func (c *cosignClient) tree(ref string) string {
	c.tb.t.Helper()
	var flags []string
	if !c.v3() && c.bundle {
		flags = []string{"--experimental-oci11"}
	}
	return string(c.run(registryCommand("tree", flags, ref)...))
}

// signBlob signs a local file with `cosign sign-blob` and returns the path of the Sigstore
// bundle (v0.3, messageSignature) it wrote.
func (c *cosignClient) signBlob(path string) string {
	c.tb.t.Helper()
	bundle := path + "." + c.binary + ".sigstore.json"
	c.run(append(append([]string{"sign-blob"}, c.withBundles().signingFlags()...), "--bundle", bundle, path)...)
	return bundle
}

// trustStatus is the part of GET /api/v1/artifacts/{digest}/trust that the tests read.
type trustStatus struct {
	Digest     string `json:"digest"`
	Signed     bool   `json:"signed"`
	Verified   bool   `json:"verified"`
	Signatures []struct {
		Manifest   string `json:"manifest"`
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
		Tool       string `json:"tool"`
		Format     string `json:"format"`
		Verified   bool   `json:"verified"`
		Signer     string `json:"signer"`
		TrustStore string `json:"trust_store"`
		Error      string `json:"error"`
	} `json:"signatures"`
	SBOMs []struct {
		Manifest string `json:"manifest"`
		Format   string `json:"format"`
		Packages int    `json:"packages"`
		Valid    bool   `json:"valid"`
		Attested bool   `json:"attested"`
		Verified bool   `json:"verified"`
		Error    string `json:"error"`
	} `json:"sboms"`
	Attestations []struct {
		Manifest      string `json:"manifest"`
		Format        string `json:"format"`
		PredicateType string `json:"predicate_type"`
		Verified      bool   `json:"verified"`
		Signer        string `json:"signer"`
		Error         string `json:"error"`
	} `json:"attestations"`
}

// artifactTrust reads the trust status of a digest.
func artifactTrust(t *testing.T, srv *server, digest string) trustStatus {
	t.Helper()
	_, body := send(t, srv, http.MethodGet, "/api/v1/artifacts/"+digest+"/trust", nil, nil, http.StatusOK)
	return decodeJSON[trustStatus](t, "trust status of "+digest, body)
}

// putTrustStoreE2E creates or replaces a trust store with the root credentials.
func putTrustStoreE2E(t *testing.T, srv *server, name string, definition map[string]any) {
	t.Helper()
	send(t, srv, http.MethodPut, "/api/v1/trust/"+name, jsonBody(t, definition), nil, http.StatusCreated, http.StatusOK)
}

// cosignKeyStore is a trust store definition with one cosign public key named "ci" and, when
// mode is not empty, a policy in that mode that requires a signature.
func cosignKeyStore(scope map[string]string, publicKey, mode string) map[string]any {
	definition := map[string]any{
		"scope":       scope,
		"cosign_keys": []map[string]string{{"name": "ci", "pem": publicKey}},
	}
	if mode != "" {
		definition["policy"] = map[string]any{"mode": mode, "require_signature": true}
	}
	return definition
}

// auditEvent is the part of an audit log line that the tests read.
type auditEvent struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Decisions []struct {
		Action string `json:"action"`
		Effect string `json:"effect"`
		Reason string `json:"reason"`
	} `json:"decisions"`
}

// stoppedAuditEvents stops the server, which writes every pending audit event, and returns
// the events of its audit log file. The server writes an event after the response is sent,
// so the log is read only once the process has exited.
func stoppedAuditEvents(t *testing.T, srv *server) []auditEvent {
	t.Helper()
	srv.stop(t)
	srv.killed = true // the exit was expected, so the cleanup's stop must not report it
	var events []auditEvent
	for _, line := range nonEmptyLines(string(readFile(t, filepath.Join(srv.dataDir, "audit", "audit.log")))) {
		var event auditEvent
		if err := json.Unmarshal([]byte(line), &event); err != nil {
			t.Fatalf("decode audit event %s: %v", line, err)
		}
		events = append(events, event)
	}
	return events
}

// supplyChainDecision returns the effect and reason of the decision with action that the
// audit event of a GET of path with the HTTP status recorded, and whether there is one.
func supplyChainDecision(events []auditEvent, path, action string, status int) (effect, reason string, found bool) {
	for _, event := range events {
		if event.Method != http.MethodGet || event.Path != path || event.Status != status {
			continue
		}
		for _, decision := range event.Decisions {
			if decision.Action == action {
				return decision.Effect, decision.Reason, true
			}
		}
	}
	return "", "", false
}

// metricLine reports whether the metrics page has the exact sample line.
func metricLine(t *testing.T, srv *server, sample string) bool {
	t.Helper()
	_, body := srv.get(t, "/metrics", "", true)
	for line := range strings.Lines(string(body)) {
		if strings.TrimSpace(line) == sample {
			return true
		}
	}
	t.Logf("metrics have no line %q:\n%s", sample, grepLines(string(body), "coffer_supply_chain"))
	return false
}

// copyVector copies a file from supplyChainVectors into dir.
func copyVector(t *testing.T, dir, name string) string {
	t.Helper()
	return writeFile(t, dir, name, vectorFile(t, name))
}
