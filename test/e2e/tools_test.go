package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// toolsBinEnv names the folder that holds the client binaries built by install-tools.sh.
const toolsBinEnv = "COFFER_TOOLS_BIN"

// commandTimeout bounds one client command, so a client that hangs fails its test with its
// output instead of running into the timeout of the whole `go test` run.
const commandTimeout = 5 * time.Minute

// toolbox runs third-party clients against one server. Every client gets a private home
// folder in the test's temporary folder, so no test reads or writes the user's credentials.
type toolbox struct {
	t   *testing.T
	srv *server
	bin string
	env []string
}

// newToolbox prepares a private home, configuration and runtime folder for the clients.
func newToolbox(t *testing.T, srv *server) *toolbox {
	t.Helper()
	bin := os.Getenv(toolsBinEnv)
	if bin == "" {
		t.Fatalf("%s is not set: run test/e2e/install-tools.sh, then set %s to the folder it printed (make e2e does both)",
			toolsBinEnv, toolsBinEnv)
	}

	home := t.TempDir()
	runtimeDir := filepath.Join(home, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatalf("create runtime folder: %v", err)
	}
	registriesConf := filepath.Join(home, "registries.conf")
	if err := os.WriteFile(registriesConf, nil, 0o600); err != nil {
		t.Fatalf("write empty registries.conf: %v", err)
	}

	env := environWithout("HOME=", "DOCKER_", "REGISTRY_AUTH_FILE", "XDG_", "REGCTL_", "ORAS_", "CONTAINERS_", "COSIGN_", "SIGSTORE_", "TUF_")
	env = append(env,
		"HOME="+home,
		"DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"XDG_RUNTIME_DIR="+runtimeDir,
		"REGISTRY_AUTH_FILE="+filepath.Join(home, "containers-auth.json"),
		"CONTAINERS_REGISTRIES_CONF="+registriesConf,
		"COSIGN_PASSWORD="+cosignPassword,
	)
	return &toolbox{t: t, srv: srv, bin: bin, env: env}
}

// path returns the binary of a client and fails the test when it is missing.
func (tb *toolbox) path(name string) string {
	tb.t.Helper()
	binary := filepath.Join(tb.bin, name)
	if _, err := os.Stat(binary); err != nil {
		tb.t.Fatalf("%s not found in %s=%s (%v): run test/e2e/install-tools.sh", name, toolsBinEnv, tb.bin, err)
	}
	return binary
}

// invocation is one client command line with its working folder and standard input.
type invocation struct {
	dir   string
	stdin string
	name  string
	args  []string
}

// exec runs a client and returns its standard output, standard error and exit error.
func (tb *toolbox) exec(inv invocation) (stdout, stderr []byte, err error) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.t.Context(), commandTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, tb.path(inv.name), inv.args...)
	cmd.Dir = inv.dir
	cmd.Env = tb.env
	cmd.Stdin = strings.NewReader(inv.stdin)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	err = cmd.Run()
	if ctx.Err() != nil {
		tb.t.Fatalf("%s did not finish within %v\nstderr:\n%s", commandLine(inv), commandTimeout, errBuf.Bytes())
	}
	return outBuf.Bytes(), errBuf.Bytes(), err
}

// must runs a client, fails the test with the client's output unless it exits with status 0,
// and returns the standard output.
func (tb *toolbox) must(inv invocation) []byte {
	tb.t.Helper()
	stdout, stderr, err := tb.exec(inv)
	if err != nil {
		tb.t.Fatalf("%s failed: %v\nstdout:\n%s\nstderr:\n%s", commandLine(inv), err, stdout, stderr)
	}
	return stdout
}

// run runs a client in the test's working folder and returns its standard output.
func (tb *toolbox) run(name string, args ...string) []byte {
	tb.t.Helper()
	return tb.must(invocation{name: name, args: args})
}

// runText is run with the output trimmed of surrounding white space.
func (tb *toolbox) runText(name string, args ...string) string {
	tb.t.Helper()
	return strings.TrimSpace(string(tb.run(name, args...)))
}

// runLines is run with the output split into non-empty lines.
func (tb *toolbox) runLines(name string, args ...string) []string {
	tb.t.Helper()
	return nonEmptyLines(string(tb.run(name, args...)))
}

// mustFail runs a client that is expected to fail and returns its standard error. The test
// fails when the client exits with status 0.
func (tb *toolbox) mustFail(name string, args ...string) string {
	tb.t.Helper()
	return tb.mustFailWith(invocation{name: name, args: args})
}

// craneLogin stores the root credentials in the private Docker configuration, which crane
// and oras read.
func (tb *toolbox) craneLogin() {
	tb.t.Helper()
	tb.must(invocation{
		name:  "crane",
		args:  []string{"auth", "login", tb.srv.addr, "--username", rootUser, "--password-stdin"},
		stdin: rootPassword,
	})
}

// orasLogin checks the root credentials against the server and stores them.
func (tb *toolbox) orasLogin() {
	tb.t.Helper()
	tb.must(invocation{
		name:  "oras",
		args:  []string{"login", "--plain-http", "--username", rootUser, "--password-stdin", tb.srv.addr},
		stdin: rootPassword,
	})
}

// regctlLogin configures the server as a plain-HTTP registry for regctl and logs in.
func (tb *toolbox) regctlLogin() {
	tb.t.Helper()
	tb.run("regctl", "registry", "set", tb.srv.addr, "--tls", "disabled")
	tb.must(invocation{
		name:  "regctl",
		args:  []string{"registry", "login", tb.srv.addr, "--user", rootUser, "--pass-stdin"},
		stdin: rootPassword,
	})
}

// commandLine formats a command for failure messages, with the root password masked.
func commandLine(inv invocation) string {
	line := inv.name + " " + strings.Join(inv.args, " ")
	return strings.ReplaceAll(line, rootPassword, "***")
}

func nonEmptyLines(text string) []string {
	var lines []string
	for line := range strings.Lines(text) {
		if trimmed := strings.TrimSpace(line); trimmed != "" {
			lines = append(lines, trimmed)
		}
	}
	return lines
}

// mustFailWith runs a client that is expected to fail and returns its standard error. The
// test fails when the client exits with status 0.
func (tb *toolbox) mustFailWith(inv invocation) string {
	tb.t.Helper()
	stdout, stderr, err := tb.exec(inv)
	if err == nil {
		tb.t.Fatalf("%s succeeded, expected it to fail\nstdout:\n%s\nstderr:\n%s", commandLine(inv), stdout, stderr)
	}
	if !isExitError(err) {
		tb.t.Fatalf("%s did not run: %v", commandLine(inv), err)
	}
	return string(stderr)
}
