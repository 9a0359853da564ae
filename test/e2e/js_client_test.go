package e2e

import (
	"context"
	"encoding/xml"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// jsSuiteTests is the number of tests in clients/js/test, the browser test
// included. The test checks it so that a file that failed to load fails it.
const jsSuiteTests = 17

// nodeTestCase is one test case of the JUnit XML report that node --test writes.
type nodeTestCase struct {
	Name    string    `xml:"name,attr"`
	Failure *struct{} `xml:"failure"`
	Skipped *struct{} `xml:"skipped"`
}

// nodeTestCases collects every testcase element of the JUnit XML report of node --test.
func nodeTestCases(t *testing.T, path string) []nodeTestCase {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatalf("open the test report: %v", err)
	}
	defer file.Close()
	var cases []nodeTestCase
	decoder := xml.NewDecoder(file)
	for {
		token, err := decoder.Token()
		if err != nil {
			break
		}
		if start, ok := token.(xml.StartElement); ok && start.Name.Local == "testcase" {
			var c nodeTestCase
			if err := decoder.DecodeElement(&c, &start); err != nil {
				t.Fatalf("parse the test report: %v", err)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// TestJSClient runs the JavaScript client's tests with Node's test runner
// against a real cofferd: 200 MiB uploads and downloads resumed after a cut
// connection, a listing of 5,000 keys in pages, the typed errors, and an
// upload and download from a page of another origin in headless Chromium.
// It also type-checks the TypeScript declarations.
func TestJSClient(t *testing.T) {
	bin := os.Getenv(toolsBinEnv)
	if bin == "" {
		t.Fatalf("%s is not set: run test/e2e/install-tools.sh, then set %s to the folder it printed (make e2e does both)", toolsBinEnv, toolsBinEnv)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "clients", "js"))
	if err != nil {
		t.Fatalf("find the JavaScript client: %v", err)
	}
	pageOrigin := "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	srv := startCofferWith(t, t.TempDir(), "", nil, "COFFER_CORS_ALLOWED_ORIGINS="+pageOrigin)
	report := filepath.Join(t.TempDir(), "junit.xml")

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()

	types := exec.CommandContext(ctx, filepath.Join(dir, "node_modules", ".bin", "tsc"), "-p", "tsconfig.json")
	types.Dir = dir
	if output, err := types.CombinedOutput(); err != nil {
		t.Errorf("tsc found errors in the TypeScript declarations: %v\n%s", err, output)
	}

	files, err := filepath.Glob(filepath.Join(dir, "test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("find the JavaScript test files: %v (found %d)", err, len(files))
	}
	args := append([]string{"--test", "--test-reporter=junit", "--test-reporter-destination=" + report,
		"--test-reporter=spec", "--test-reporter-destination=stdout"}, files...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(environWithout("COFFER_"),
		"COFFER_URL=http://"+srv.addr,
		"COFFER_USER="+rootUser,
		"COFFER_PASSWORD="+rootPassword,
		"COFFER_CHROMIUM="+filepath.Join(bin, "chromium"),
		"COFFER_PAGE_ORIGIN="+pageOrigin,
	)
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("node --test exited with %v\n%s", err, tail(output))
	}

	cases := nodeTestCases(t, report)
	var failed, skipped []string
	for _, c := range cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
		}
		if c.Skipped != nil {
			skipped = append(skipped, c.Name)
		}
	}
	if len(cases) != jsSuiteTests || len(failed) > 0 || len(skipped) > 0 {
		t.Errorf("node --test ran %d tests (expected %d), failed %q, skipped %q\n%s", len(cases), jsSuiteTests, failed, skipped, tail(output))
	}
}
