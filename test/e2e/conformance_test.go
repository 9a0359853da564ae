package e2e

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Repositories the conformance suite pushes to. The suite mounts blobs from the first into
// the second.
const (
	conformanceRepo1 = "conformance/one"
	conformanceRepo2 = "conformance/two"
)

// conformanceDetailBytes is how much of a failed case's request and response log is printed.
const conformanceDetailBytes = 4 << 10

// junitCase is one test case in the suite's junit.xml. The suite writes the result in the
// status attribute, the error messages in system-out and the requests and responses in
// system-err.
type junitCase struct {
	Name      string `xml:"name,attr"`
	Status    string `xml:"status,attr"`
	SystemOut string `xml:"system-out"`
	SystemErr string `xml:"system-err"`
}

type junitReport struct {
	Suites []struct {
		Cases []junitCase `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestOCIConformance runs the OCI distribution-spec conformance suite (spec version 1.1,
// every API and data switch at its default) against a fresh server and fails with the name
// of every failed case.
func TestOCIConformance(t *testing.T) {
	runConformance(t, startCoffer(t))
}

// TestOCIConformanceOnS3Storage runs the same suite against a server that keeps its blobs
// in a versitygw bucket through the S3 storage driver, with the two API tests that the
// suite leaves off by default (upload cancel and tag parameters) turned on.
func TestOCIConformanceOnS3Storage(t *testing.T) {
	backend := startVersityGW(t)
	srv := startCofferWith(t, t.TempDir(), "", nil,
		"COFFER_STORAGE_DRIVER=s3",
		"COFFER_STORAGE_S3_ENDPOINT="+backend.endpoint,
		"COFFER_STORAGE_S3_BUCKET="+backend.bucket,
		"COFFER_STORAGE_S3_PATH_STYLE=true",
		"COFFER_STORAGE_S3_ACCESS_KEY="+backend.accessKey,
		"COFFER_STORAGE_S3_SECRET_KEY="+backend.secretKey,
	)
	runConformance(t, srv, "OCI_API_BLOBS_UPLOAD_CANCEL=true", "OCI_API_MANIFESTS_TAG_PARAM=true")
}

// runConformance runs the suite against srv, with extra OCI_* settings in env, and fails
// with every failed case.
func runConformance(t *testing.T, srv *server, extra ...string) {
	t.Helper()
	tb := newToolbox(t, srv)
	resultsDir := t.TempDir()

	// The suite reads oci-conformance.yaml from its working folder and every OCI_* variable
	// from the environment. It runs in an empty folder with only these OCI_* variables.
	env := environWithout("OCI_")
	env = append(env,
		"OCI_REGISTRY="+srv.addr,
		"OCI_TLS=disabled",
		"OCI_USERNAME="+rootUser,
		"OCI_PASSWORD="+rootPassword,
		"OCI_REPO1="+conformanceRepo1,
		"OCI_REPO2="+conformanceRepo2,
		"OCI_VERSION=1.1",
		"OCI_RESULTS_DIR="+resultsDir,
	)
	env = append(env, extra...)
	suite := &toolbox{t: t, srv: srv, bin: tb.bin, env: env}
	stdout, stderr, runErr := suite.exec(invocation{dir: t.TempDir(), name: "conformance"})

	// The suite exits with status 1 when a case fails, but also with status 0 when it could
	// not load its configuration, so junit.xml decides the result.
	junitPath := filepath.Join(resultsDir, "junit.xml")
	data, err := os.ReadFile(junitPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("conformance suite wrote no junit.xml (exit: %v)\nstdout:\n%s\nstderr:\n%s", runErr, stdout, stderr)
	}
	if err != nil {
		t.Fatalf("read %s: %v", junitPath, err)
	}
	var report junitReport
	if err := xml.Unmarshal(data, &report); err != nil {
		t.Fatalf("decode %s: %v", junitPath, err)
	}

	var passed, skipped []string
	var failed []junitCase
	for _, suite := range report.Suites {
		for _, c := range suite.Cases {
			switch c.Status {
			case "passed":
				passed = append(passed, c.Name)
			case "skipped":
				skipped = append(skipped, c.Name)
			default: // "failure" or "error"
				failed = append(failed, c)
			}
		}
	}

	t.Logf("OCI conformance: %d passed, %d failed, %d skipped", len(passed), len(failed), len(skipped))
	for _, name := range skipped {
		t.Logf("skipped: %s", name)
	}
	if len(passed)+len(failed)+len(skipped) == 0 {
		t.Fatalf("conformance junit.xml lists no test cases\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if len(failed) == 0 && runErr != nil {
		t.Errorf("conformance suite exited with %v but junit.xml lists no failure\nstderr:\n%s", runErr, stderr)
	}
	if len(failed) == 0 {
		return
	}

	names := make([]string, len(failed))
	for i, c := range failed {
		names[i] = c.Name
		t.Logf("FAILED %s (%s)\nerrors:\n%s\nrequests and responses:\n%s",
			c.Name, c.Status, strings.TrimSpace(c.SystemOut), truncate(c.SystemErr, conformanceDetailBytes))
	}
	t.Errorf("%d OCI conformance cases failed:\n  %s", len(failed), strings.Join(names, "\n  "))
}

// truncate returns the first n bytes of text, marked when text was longer.
func truncate(text string, n int) string {
	if len(text) <= n {
		return text
	}
	return fmt.Sprintf("%s\n(cut after %d of %d bytes)", text[:n], n, len(text))
}
