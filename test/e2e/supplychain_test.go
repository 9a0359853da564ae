package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestOrasSBOMTrustStatus attaches SBOMs with oras, finds them with oras
// discover, and reads their validation in the trust status: an SPDX and a
// CycloneDX document are valid, a CycloneDX document attached as SPDX is
// reported invalid.
func TestOrasSBOMTrustStatus(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.orasLogin()
	tb.craneLogin()

	dir := t.TempDir()
	for _, name := range []string{"sbom.spdx.json", "sbom.cdx.json"} {
		copyVector(t, dir, name)
	}
	ref := srv.ref("e2e/supply:v1")
	pushed := tb.pushFileArtifact(dir, ref)

	attach := func(file, artifactType string) string {
		out := tb.must(invocation{dir: dir, name: "oras", args: []string{
			"attach", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", artifactType, ref, file + ":" + artifactType,
		}})
		return decodeJSON[orasReferrer](t, "oras attach output", out).Digest
	}
	spdx := attach("sbom.spdx.json", "application/spdx+json")
	cyclonedx := attach("sbom.cdx.json", "application/vnd.cyclonedx+json")
	mislabelled := attach("sbom.cdx.json", "application/spdx+json")

	discovered := decodeJSON[orasReferrer](t, "oras discover output", tb.run("oras", "discover", "--plain-http", "--format", "json",
		"--artifact-type", "application/vnd.cyclonedx+json", ref))
	if len(discovered.Referrers) != 1 || discovered.Referrers[0].Digest != cyclonedx {
		t.Errorf("oras discover --artifact-type application/vnd.cyclonedx+json = %+v, expected only %s", discovered.Referrers, cyclonedx)
	}
	if got := tb.runLines("crane", "ls", "--insecure", srv.ref("e2e/supply")); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("tags after oras attach = %q, expected [v1]: a sha256-… tag means oras fell back from the referrers API", got)
	}

	status := artifactTrust(t, srv, pushed)
	if status.Signed {
		t.Errorf("signed = true for an artifact without signatures")
	}
	found := map[string]bool{}
	for _, s := range status.SBOMs {
		found[s.Manifest] = true
		switch s.Manifest {
		case spdx, cyclonedx:
			if !s.Valid || s.Packages != 1 || s.Error != "" {
				t.Errorf("SBOM %s (%s) = %+v, expected valid with 1 package", s.Manifest, s.Format, s)
			}
		case mislabelled:
			if s.Valid || !strings.Contains(s.Error, "is CycloneDX (it has bomFormat) but is declared as SPDX") {
				t.Errorf("CycloneDX attached as SPDX = %+v, expected invalid with a clear error", s)
			}
		}
	}
	if len(status.SBOMs) != 3 || !found[spdx] || !found[cyclonedx] || !found[mislabelled] {
		t.Errorf("trust status lists SBOMs %+v, expected the 3 attached ones", status.SBOMs)
	}

	_, body := send(t, srv, http.MethodPut, "/api/v1/trust/e2e", []byte(`{"scope":{"repositories":"e2e/*"},"cosign_keys":[{"name":"k","pem":"not a key"}]}`), nil, http.StatusBadRequest)
	if !strings.Contains(string(body), "expected a PEM block of type PUBLIC KEY") {
		t.Errorf("PUT of an invalid trust store: %s", body)
	}
}
