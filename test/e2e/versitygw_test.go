package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// s3Backend is an S3-compatible store a test started on 127.0.0.1.
type s3Backend struct {
	endpoint, bucket, accessKey, secretKey string
	// root is versitygw's posix folder: the object "k" of the bucket is the file root/bucket/k.
	root string
}

// startVersityGW starts versitygw (built by install-tools.sh into the tools folder) over a
// posix folder with one bucket, and stops it by PID when the test ends. posixArgs are
// options of its posix backend.
func startVersityGW(t *testing.T, posixArgs ...string) s3Backend {
	t.Helper()
	dir := os.Getenv(toolsBinEnv)
	binary := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(binary); dir == "" || err != nil {
		t.Fatalf("versitygw is missing from %s=%q: run test/e2e/install-tools.sh, which builds it", toolsBinEnv, dir)
	}
	root := t.TempDir()
	backend := s3Backend{bucket: "coffer-blobs", accessKey: "versity-access", secretKey: "versity-secret-key", root: root}
	// The posix backend serves each folder under its root as a bucket.
	if err := os.Mkdir(filepath.Join(root, backend.bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	backend.endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"--port", fmt.Sprintf("127.0.0.1:%d", port),
		"--access", backend.accessKey, "--secret", backend.secretKey, "--quiet", "posix"}
	args = append(append(args, posixArgs...), root)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	// Wait until it accepts connections; the bound only turns a hung start into a failure.
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for i := 0; i < 300; i++ {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return backend
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("versitygw did not accept connections on %s", addr)
	return backend
}
