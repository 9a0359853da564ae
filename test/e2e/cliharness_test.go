package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cliEnv runs the coffer CLI with its own config, state and credentials
// folders, against one server URL.
type cliEnv struct {
	binary string
	home   string
	server string
}

// buildCLI builds the coffer command into a folder of the test.
func buildCLI(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "coffer")
	build := exec.Command("go", "build", "-o", binary, "github.com/cofferhq/coffer/cmd/coffer")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build coffer: %v\n%s", err, out)
	}
	return binary
}

func (e *cliEnv) command(t *testing.T, stdin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), e.binary, args...)
	cmd.Env = append(environWithout("COFFER_", "XDG_"),
		"XDG_CONFIG_HOME="+filepath.Join(e.home, "config"),
		"XDG_STATE_HOME="+filepath.Join(e.home, "state"),
		"COFFER_SERVER="+e.server,
		// The tests keep credentials in their own file, never in the
		// keyring of the machine that runs them.
		"COFFER_CREDENTIALS_STORE=file",
		"COFFER_PROGRESS=never",
		"COFFER_CHUNK_SIZE_MIB=8",
	)
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

// run runs the CLI and returns its standard output, standard error and
// exit code.
func (e *cliEnv) run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := e.command(t, stdin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run coffer %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// mustRun runs the CLI and fails the test unless it exits with 0.
func (e *cliEnv) mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	stdout, stderr, code := e.run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("coffer %s exited with %d:\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// cliProxy sits between the CLI and cofferd. It counts the bytes of
// upload chunks and object downloads and can respond to the next requests
// with 503. It can also hold one transfer after a number of bytes until the
// test releases it, so that the test can kill the CLI in the middle.
type cliProxy struct {
	server        *httptest.Server
	uploadBytes   atomic.Int64 // PATCH bodies forwarded to /api/v1/uploads/
	downloadBytes atomic.Int64 // GET bodies of objects returned
	unavailable   atomic.Int32 // requests still to reject with 503
	served503     atomic.Int32
	firstOffsets  chan string // Content-Range of every upload chunk, in order

	mu      sync.Mutex
	holdAt  int64 // hold the transfer once its counter passes this; 0 = off
	counter *atomic.Int64
	held    chan struct{} // closed when a transfer is held
	release chan struct{} // closed by the test to end the held transfer
}

func startCLIProxy(t *testing.T, upstream string) *cliProxy {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &cliProxy{firstOffsets: make(chan string, 1000)}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.Contains(resp.Request.URL.Path, "/objects/") {
			resp.Body = &heldBody{ReadCloser: resp.Body, proxy: p, counter: &p.downloadBytes}
		}
		return nil
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0)
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.unavailable.Load() > 0 && p.unavailable.Add(-1) >= 0 {
			p.served503.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"injected by the test proxy"}`)
			return
		}
		if r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/uploads/") {
			select {
			case p.firstOffsets <- r.Header.Get("Content-Range"):
			default:
			}
			r.Body = &heldBody{ReadCloser: r.Body, proxy: p, counter: &p.uploadBytes}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(p.server.Close)
	return p
}

// holdAfter arms a one-time hold of the transfer that counter measures
// once it passes n bytes.
func (p *cliProxy) holdAfter(counter *atomic.Int64, n int64) (held, release chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdAt, p.counter = counter.Load()+n, counter
	p.held, p.release = make(chan struct{}), make(chan struct{})
	return p.held, p.release
}

// heldBody counts the bytes read through it. When the proxy's hold
// triggers, Read blocks until the test releases it and then fails, as a
// broken connection does.
type heldBody struct {
	io.ReadCloser
	proxy   *cliProxy
	counter *atomic.Int64
}

func (b *heldBody) Read(buf []byte) (int, error) {
	n, err := b.ReadCloser.Read(buf)
	total := b.counter.Add(int64(n))
	p := b.proxy
	p.mu.Lock()
	hold := p.holdAt > 0 && p.counter == b.counter && total >= p.holdAt
	var release chan struct{}
	if hold {
		p.holdAt = 0
		close(p.held)
		release = p.release
	}
	p.mu.Unlock()
	if hold {
		<-release
		return 0, errors.New("transfer ended by the test proxy")
	}
	return n, err
}

// killWhenHeld starts cmd, waits until the proxy holds its transfer, kills
// it, and releases the proxy.
func killWhenHeld(t *testing.T, cmd *exec.Cmd, held, release chan struct{}) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start coffer: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-held:
	case err := <-exited:
		close(release)
		t.Fatalf("coffer exited before the proxy held its transfer: %v\n%s", err, stderr.String())
	case <-time.After(2 * time.Minute):
		close(release)
		t.Fatal("the proxy did not hold the transfer within 2 minutes")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill coffer (pid %d): %v", cmd.Process.Pid, err)
	}
	<-exited
	close(release)
}

// writeSeededFile writes the n-byte pattern of seed to path.
func writeSeededFile(t *testing.T, path string, seed uint64, n int64) {
	t.Helper()
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := io.Copy(file, newPatternReader(seed, n)); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// readerDigest returns the sha256 digest of what r yields.
func readerDigest(t *testing.T, r io.Reader) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatalf("hash: %v", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// execOutput runs a program and returns its combined output.
func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
