package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/audit"
)

// auditLogLines writes five events to a new audit log and returns its path
// and lines.
func auditLogLines(t *testing.T) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	sink, pos, err := audit.OpenFile(path, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.NewLog(pos, nil, sink)
	for _, status := range []int{200, 201, 401, 404, 204} {
		if err := log.Write(context.Background(), audit.Event{Protocol: "oci", Method: "GET", Path: "/v2/", Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func runVerify(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runAudit(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAuditVerifyIntact(t *testing.T) {
	path, _ := auditLogLines(t)
	code, stdout, stderr := runVerify(t, "verify", path)
	if code != exitOK || !strings.HasPrefix(stdout, "ok: 5 events, seq 1 to 5") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestAuditVerifyNamesBrokenLine(t *testing.T) {
	cases := []struct {
		name   string
		change func(lines []string) []string
		line   string
		reason string
	}{
		{"edited", func(l []string) []string {
			l[3] = strings.Replace(l[3], `"status":404`, `"status":200`, 1)
			return l
		}, ":4:", "was edited"},
		{"deleted", func(l []string) []string { return append(l[:1], l[2:]...) }, ":2:", "seq 2 is missing"},
		{"swapped", func(l []string) []string {
			l[2], l[3] = l[3], l[2]
			return l
		}, ":3:", "seq 3 is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, lines := auditLogLines(t)
			lines = tc.change(lines)
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runVerify(t, "verify", path)
			if code != exitFound {
				t.Fatalf("exit %d, want %d; stderr %q", code, exitFound, stderr)
			}
			if !strings.Contains(stderr, path+tc.line) || !strings.Contains(stderr, tc.reason) {
				t.Fatalf("stderr %q does not name %s%s with %q", stderr, path, tc.line, tc.reason)
			}
		})
	}
}

func TestAuditVerifyUsage(t *testing.T) {
	if code, _, _ := runVerify(t, "verify"); code != exitUsageError {
		t.Errorf("no file: exit %d, want %d", code, exitUsageError)
	}
	if code, _, _ := runVerify(t, "check", "x"); code != exitUsageError {
		t.Errorf("unknown subcommand: exit %d, want %d", code, exitUsageError)
	}
	if code, _, stderr := runVerify(t, "verify", filepath.Join(t.TempDir(), "missing.log")); code != exitUsageError || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, stderr %q", code, stderr)
	}
}
