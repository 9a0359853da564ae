// Package e2e runs a real cofferd and drives it with third-party OCI clients (crane, oras,
// regctl, skopeo), the OCI distribution-spec conformance suite, and S3 clients (AWS CLI,
// boto3, rclone, s3cmd, aws-sdk-go-v2, minio-go).
//
// The OCI clients, rclone and s3cmd are installed by test/e2e/install-tools.sh into one
// folder, which the tests find through the COFFER_TOOLS_BIN environment variable. `make e2e`
// sets both up. The AWS CLI, boto3 and curl come with the machine image and are found on PATH.
package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Root credentials of every test server. The clients send them as HTTP Basic credentials.
const (
	rootUser     = "coffer-e2e"
	rootPassword = "e2e-root-password-5f1c"
)

const (
	// readyTimeout bounds the wait for /readyz after start, so a server that never becomes
	// ready fails the test instead of hanging it.
	readyTimeout = 10 * time.Second
	// stopTimeout bounds the wait for exit after SIGTERM, after which the server is killed.
	stopTimeout = 30 * time.Second
	// logTailBytes is how much of the server log a failed test prints.
	logTailBytes = 32 << 10
)

// cofferdBinary is the server that TestMain builds once for every test in the package.
var cofferdBinary string

func TestMain(m *testing.M) {
	os.Exit(runWithServerBinary(m))
}

// runWithServerBinary builds cofferd into a temporary folder, runs the tests and removes the
// folder. It returns the process exit code.
func runWithServerBinary(m *testing.M) int {
	dir, err := os.MkdirTemp("", "coffer-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: create build folder: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)

	cofferdBinary = filepath.Join(dir, "cofferd")
	build := exec.Command("go", "build", "-o", cofferdBinary, "github.com/cofferhq/coffer/cmd/cofferd")
	build.Stdout = os.Stderr
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build cofferd: %v\n", err)
		return 1
	}
	return m.Run()
}

// server is one running cofferd process owned by a test.
type server struct {
	addr    string // host:port it listens on, which is also the registry part of image references
	s3addr  string // host:port of the S3 API
	dataDir string // the --data-dir folder, whose storage/blobs holds the committed blobs
	caPath  string // PEM file of the CA that signed the server certificate, or empty for plain HTTP
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited and waitErr is set
	waitErr error
	killed  bool // set by kill: the exit is expected
}

// startCoffer starts cofferd on a free loopback port with an empty data folder and the root
// credentials, waits until /readyz returns 200, and stops the server when the test ends.
func startCoffer(t *testing.T) *server {
	t.Helper()
	return startCofferAt(t, t.TempDir(), "")
}

// startCofferAt starts cofferd on dataDir and addr; an empty addr picks a free loopback port.
// A test restarts a server on the same data by passing the old server's folder and address.
func startCofferAt(t *testing.T, dataDir, addr string) *server {
	t.Helper()
	return startCofferWith(t, dataDir, addr, nil)
}

// startCofferWith is startCofferAt with HTTPS on both listeners when tls is not nil, and
// with extra COFFER_* settings in env.
func startCofferWith(t *testing.T, dataDir, addr string, tls *serverTLS, env ...string) *server {
	t.Helper()
	if cofferdBinary == "" {
		t.Fatal("cofferd binary is missing: TestMain did not build it")
	}
	if addr == "" {
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	}

	logPath := filepath.Join(t.TempDir(), "cofferd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create cofferd log file: %v", err)
	}
	t.Cleanup(func() { logFile.Close() })

	// The S3 API gets its own free port, because its default port would be shared by every
	// test server and by any cofferd a developer runs.
	srv := &server{
		addr:    addr,
		s3addr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))),
		dataDir: dataDir,
		logPath: logPath,
		exited:  make(chan struct{}),
	}
	args := []string{
		"--listen", srv.addr,
		"--s3-listen", srv.s3addr,
		"--data-dir", dataDir,
		"--log-format", "text",
	}
	if tls != nil {
		srv.caPath = tls.caPath
		args = append(args, "--tls-cert", tls.certPath, "--tls-key", tls.keyPath)
	}
	srv.cmd = exec.Command(cofferdBinary, args...)
	srv.cmd.Env = append(environWithout("COFFER_"),
		"COFFER_ROOT_USER="+rootUser,
		"COFFER_ROOT_PASSWORD="+rootPassword,
	)
	srv.cmd.Env = append(srv.cmd.Env, env...)
	srv.cmd.Stdout = logFile
	srv.cmd.Stderr = logFile
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("start cofferd: %v", err)
	}
	go func() {
		srv.waitErr = srv.cmd.Wait()
		close(srv.exited)
	}()
	t.Cleanup(func() { srv.stop(t) })

	srv.waitReady(t)
	return srv
}

// freePort returns a loopback TCP port that was free a moment ago. Another process may take
// it before cofferd binds it. The server then fails to start and the test prints its log.
func freePort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

// waitReady polls /readyz until it returns 200, the process exits, or readyTimeout passes.
func (s *server) waitReady(t *testing.T) {
	t.Helper()
	client := s.httpClient(t, time.Second)
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			t.Fatalf("cofferd exited before it was ready: %v\n%s", s.waitErr, s.logTail())
		default:
		}

		resp, err := client.Get(s.scheme() + "://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("cofferd did not return 200 on /readyz within %v\n%s", readyTimeout, s.logTail())
}

// kill stops the server with SIGKILL, as a crash would, and waits for it to exit.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill cofferd (pid %d): %v", s.cmd.Process.Pid, err)
	}
	<-s.exited
	s.killed = true
}

// stop sends SIGTERM to the server and waits for it to exit. A server that crashed during the
// test, exits with an error or ignores SIGTERM fails the test. The log is printed whenever the
// test failed, so a failing client command can be matched with the server's view of it.
func (s *server) stop(t *testing.T) {
	if s.killed {
		return
	}
	select {
	case <-s.exited:
		t.Errorf("cofferd exited during the test: %v", s.waitErr)
	default:
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("send SIGTERM to cofferd (pid %d): %v", s.cmd.Process.Pid, err)
		}
		select {
		case <-s.exited:
			if s.waitErr != nil {
				t.Errorf("cofferd exited with %v after SIGTERM, expected status 0", s.waitErr)
			}
		case <-time.After(stopTimeout):
			t.Errorf("cofferd (pid %d) did not exit within %v after SIGTERM, so it was killed", s.cmd.Process.Pid, stopTimeout)
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if t.Failed() {
		t.Logf("cofferd log (%s):\n%s", s.addr, s.logTail())
	}
}

// logTail returns the last logTailBytes of the server log.
func (s *server) logTail() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(read cofferd log: %v)", err)
	}
	if len(data) > logTailBytes {
		data = data[len(data)-logTailBytes:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
		return "(earlier lines cut)\n" + string(data)
	}
	return string(data)
}

// ref returns an image or repository reference on this server, such as
// "127.0.0.1:5000/e2e/crane:v1" for ref("e2e/crane:v1").
func (s *server) ref(nameAndReference string) string {
	return s.addr + "/" + nameAndReference
}

// manifestMediaTypes is the Accept header for manifest requests: every manifest type the
// clients in these tests push.
var manifestMediaTypes = strings.Join([]string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}, ", ")

// manifestStatus sends an authenticated GET for a manifest by tag or digest and returns the
// HTTP status code, so a test can check what the API returns after a client changed it.
func (s *server) manifestStatus(t *testing.T, repository, reference string) int {
	t.Helper()
	resp, _ := s.get(t, "/v2/"+repository+"/manifests/"+reference, manifestMediaTypes, true)
	return resp.StatusCode
}

// get sends a GET request to the server, with the root credentials when authenticated is
// true, and returns the response with its body read.
func (s *server) get(t *testing.T, path, accept string, authenticated bool) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+s.addr+path, nil)
	if err != nil {
		t.Fatalf("build request for %s: %v", path, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if authenticated {
		req.SetBasicAuth(rootUser, rootPassword)
	}

	client := &http.Client{Timeout: time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body of GET %s: %v", path, err)
	}
	return resp, body
}

// environWithout returns the current environment less the variables whose names start with
// one of the prefixes, so settings from a developer's shell cannot change what a test runs.
func environWithout(prefixes ...string) []string {
	var env []string
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if !hasAnyPrefix(name, prefixes) {
			env = append(env, entry)
		}
	}
	return env
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, prefix := range prefixes {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// isExitError reports whether err is a non-zero exit of a command that ran.
func isExitError(err error) bool {
	var exitErr *exec.ExitError
	return errors.As(err, &exitErr)
}
