package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAttachTrust attaches the recorded cosign sign-blob bundle to an
// object with coffer attach and reads the verdict with coffer trust.
func TestCLIAttachTrust(t *testing.T) {
	srv := startCoffer(t)
	env := &cliEnv{binary: buildCLI(t), home: t.TempDir(), server: "http://" + srv.addr}
	env.mustRun(t, rootPassword+"\n", "login", "--username", rootUser, "--password-stdin")

	vectors := supplyChainVectors
	putTrustStoreE2E(t, srv, "reports", map[string]any{
		"scope":       map[string]string{"bucket": "reports"},
		"cosign_keys": []map[string]string{{"name": "release", "pem": string(readFile(t, filepath.Join(vectors, "cosign.pub")))}},
	})

	env.mustRun(t, "", "mb", "s3://reports")
	env.mustRun(t, "", "cp", filepath.Join(vectors, "report.bin"), "s3://reports/2026/report.bin")
	attached := env.mustRun(t, "", "attach", "s3://reports/2026/report.bin", filepath.Join(vectors, "report.bin.sigstore.json"))
	if !strings.Contains(attached, "application/vnd.dev.sigstore.bundle.v0.3+json") {
		t.Errorf("coffer attach printed %q", attached)
	}
	digest, _, _ := strings.Cut(attached, " ")

	status := env.mustRun(t, "", "trust", "s3://reports/2026/report.bin")
	for _, want := range []string{"Verified: yes", "signature    sigstore-bundle  verified by reports/release", "attachment   " + digest} {
		if !strings.Contains(status, want) {
			t.Errorf("coffer trust printed:\n%s\nwant a line with %q", status, want)
		}
	}

	local := filepath.Join(t.TempDir(), "report.bin")
	if err := os.WriteFile(local, []byte("rebuilt"), 0o600); err != nil {
		t.Fatal(err)
	}
	env.mustRun(t, "", "cp", local, "s3://reports/2026/report.bin")
	status = env.mustRun(t, "", "trust", "s3://reports/2026/report.bin")
	if !strings.Contains(status, "Verified: no") || !strings.Contains(status, "not current: made for content sha256:7aedb169") {
		t.Errorf("coffer trust after overwrite printed:\n%s", status)
	}

	env.mustRun(t, "", "attach", "--delete", digest, "s3://reports/2026/report.bin")
	if listed := env.mustRun(t, "", "attach", "--list", "s3://reports/2026/report.bin"); listed != "" {
		t.Errorf("coffer attach --list after delete printed %q, want nothing", listed)
	}
	if _, stderr, code := env.run(t, "", "attach", "s3://reports/2026/report.bin", local); code != 2 || !strings.Contains(stderr, "set --media-type") {
		t.Errorf("attach of an unknown file type exited with %d: %s", code, stderr)
	}
}
