package e2e

import (
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// pythonSuiteTests is the number of tests in clients/python/tests. The test
// checks it so that a test module pytest failed to collect fails it too.
const pythonSuiteTests = 16

// junitSuite is the part of pytest's JUnit XML report that the test reads.
type junitSuite struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
}

// TestPythonClient runs the Python client's pytest suite against a real
// cofferd: 200 MiB uploads and downloads resumed after a cut connection,
// a listing of 5,000 keys in pages, and the typed errors.
func TestPythonClient(t *testing.T) {
	bin := os.Getenv(toolsBinEnv)
	if bin == "" {
		t.Fatalf("%s is not set: run test/e2e/install-tools.sh, then set %s to the folder it printed (make e2e does both)", toolsBinEnv, toolsBinEnv)
	}
	suite, err := filepath.Abs(filepath.Join("..", "..", "clients", "python", "tests"))
	if err != nil {
		t.Fatalf("find the Python tests: %v", err)
	}
	srv := startCoffer(t)
	report := filepath.Join(t.TempDir(), "junit.xml")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "pytest-3"), "-q", "-p", "no:cacheprovider", "--junitxml", report, suite)
	cmd.Env = append(environWithout("COFFER_", "PYTHON"),
		"COFFER_URL=http://"+srv.addr,
		"COFFER_USER="+rootUser,
		"COFFER_PASSWORD="+rootPassword,
		"PYTHONDONTWRITEBYTECODE=1",
	)
	cmd.Dir = t.TempDir()
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("pytest exited with %v\n%s", err, tail(output))
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("read the pytest report: %v", err)
	}
	var result struct {
		Suites []junitSuite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &result); err != nil {
		t.Fatalf("parse the pytest report: %v", err)
	}
	if len(result.Suites) != 1 {
		t.Fatalf("pytest report has %d suites, expected 1", len(result.Suites))
	}
	got := result.Suites[0]
	want := junitSuite{Tests: pythonSuiteTests}
	if got != want {
		t.Errorf("pytest ran %+v, expected %+v\n%s", got, want, tail(output))
	}
}
