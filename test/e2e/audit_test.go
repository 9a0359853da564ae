package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runAuditVerify runs "cofferd audit verify" on files and returns its exit
// code and output.
func runAuditVerify(t *testing.T, files ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(cofferdBinary, append([]string{"audit", "verify"}, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && !isExitError(err) {
		t.Fatalf("run cofferd audit verify: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestAuditLogChainsAcrossRestart checks that the server audits each request once, that the
// chain continues after a restart, and that "cofferd audit verify" finds an edited line.
func TestAuditLogChainsAcrossRestart(t *testing.T) {
	dataDir := t.TempDir()
	logPath := filepath.Join(dataDir, "audit", "audit.log")
	srv := startCofferAt(t, dataDir, "")

	if resp, _ := srv.get(t, "/v2/", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ returned %d", resp.StatusCode)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+srv.addr+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(rootUser, "not-the-password")
	wrong, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v2/ with a wrong password: %v", err)
	}
	wrong.Body.Close()
	s3Request{method: http.MethodPut, path: "/audit-e2e"}.expect(t, srv, http.StatusOK)
	srv.stop(t)
	srv.killed = true // the exit was expected, so the cleanup's stop must not report it

	code, out := runAuditVerify(t, logPath)
	if code != 0 || !strings.HasPrefix(out, "ok: 3 events, seq 1 to 3") {
		t.Fatalf("verify after three requests: exit %d\n%s", code, out)
	}

	srv = startCofferAt(t, dataDir, "")
	if resp, _ := srv.get(t, "/v2/_catalog", "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/_catalog returned %d", resp.StatusCode)
	}
	srv.stop(t)
	srv.killed = true
	code, out = runAuditVerify(t, logPath)
	if code != 0 || !strings.HasPrefix(out, "ok: 4 events, seq 1 to 4") {
		t.Fatalf("verify after a restart: exit %d\n%s", code, out)
	}

	data, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if !strings.Contains(lines[1], `"status":401`) || !strings.Contains(lines[1], `"principal":"anonymous"`) {
		t.Fatalf("line 2 is not the failed login: %s", lines[1])
	}
	if !strings.Contains(lines[2], `"protocol":"s3"`) || !strings.Contains(lines[2], `"principal":"coffer#root"`) {
		t.Fatalf("line 3 is not the bucket creation by root: %s", lines[2])
	}
	lines[1] = strings.Replace(lines[1], `"status":401`, `"status":200`, 1)
	if err := os.WriteFile(logPath, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out = runAuditVerify(t, logPath)
	if code != 1 || !strings.Contains(out, logPath+":2: the hash does not match") {
		t.Fatalf("verify of an edited line: exit %d\n%s", code, out)
	}
}
