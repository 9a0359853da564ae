package e2e

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/test/keycloak"
)

var updateCLIGolden = flag.Bool("update-cli-golden", false, "rewrite the golden files of the coffer CLI's JSON output")

// cliTransferSize is the file the resume checks move: 1 GiB, a release
// artifact of the size users move, in many 8 MiB chunks.
const cliTransferSize = 1 << 30

// TestCLI drives the coffer command against cofferd and a mock Keycloak:
// logins, an upload and a download each killed midway and resumed,
// retried 503s, JSON output and shell completion.
func TestCLI(t *testing.T) {
	kc := keycloak.New(keycloak.Options{})
	err := kc.AddRealm(keycloak.RealmConfig{
		Name:               "coffer",
		DevicePollInterval: 1,
		Clients: []keycloak.ClientConfig{
			{ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"}},
			{ClientID: "coffer-cli", DeviceGrant: true, Audiences: []string{"coffer"}},
		},
		Users: []keycloak.UserConfig{{Username: "alice", Password: "alice-password"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kc.Close() })
	issuer := kc.Issuer("coffer")

	// Keycloak clients may read, as the policy grants; writes need root.
	readers := `COFFER_AUTH_POLICIES=[{"id": "readers", "effect": "Allow", "principals": ["*"],
  "actions": ["coffer:system.read", "s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"], "resources": ["*"]}]`
	srv := startCofferWith(t, t.TempDir(), "", nil, "COFFER_AUTH_OIDC_ISSUER="+issuer, "COFFER_AUTH_OIDC_AUDIENCE=coffer", readers)
	proxy := startCLIProxy(t, "http://"+srv.addr)
	env := &cliEnv{binary: buildCLI(t), home: t.TempDir(), server: proxy.server.URL}

	t.Run("login with client credentials", func(t *testing.T) {
		env.mustRun(t, "ci-secret\n", "login", "--client-credentials", "--issuer", issuer, "--client-id", "ci", "--client-secret-stdin")
		checkGolden(t, "ls-buckets-empty", env.mustRun(t, "", "ls", "-o", "json"), "")
		env.mustRun(t, "", "logout")
		if _, _, code := env.run(t, "", "ls"); code != 4 {
			t.Errorf("ls after logout exited with %d, want 4 (not logged in)", code)
		}
	})

	t.Run("login with the device flow", func(t *testing.T) {
		loginWithDevice(t, env, kc, issuer)
		checkGolden(t, "ls-buckets-empty", env.mustRun(t, "", "ls", "-o", "json"), "")
		_, stderr, code := env.run(t, "", "mb", "s3://by-token")
		if code != 4 || !strings.Contains(stderr, "403") {
			t.Errorf("mb with a token exited with %d (%s), want 4 and 403", code, stderr)
		}
		env.mustRun(t, "", "logout")
	})

	env.mustRun(t, rootPassword+"\n", "login", "--username", rootUser, "--password-stdin")
	env.mustRun(t, "", "mb", "s3://cli")
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	writeSeededFile(t, big, 7, cliTransferSize)
	wantDigest := patternDigest(7, cliTransferSize)

	t.Run("upload resumes after kill", func(t *testing.T) {
		held, release := proxy.holdAfter(&proxy.uploadBytes, cliTransferSize*2/5)
		killWhenHeld(t, env.command(t, "", "cp", big, "s3://cli/big.bin"), held, release)
		drainOffsets(proxy)

		stdout := env.mustRun(t, "", "cp", big, "s3://cli/big.bin", "--progress", "always", "-o", "json")
		if !strings.Contains(stdout, wantDigest) {
			t.Errorf("resumed cp printed %s, want digest %s", stdout, wantDigest)
		}
		if first := <-proxy.firstOffsets; strings.HasPrefix(first, "bytes 0-") {
			t.Errorf("the rerun started at %q, want the offset the session held", first)
		}
		if sent := proxy.uploadBytes.Load(); sent >= cliTransferSize*3/2 {
			t.Errorf("the server received %d bytes for a %d-byte file, want under 1.5 times", sent, cliTransferSize)
		} else {
			t.Logf("upload with one kill: the server received %d bytes for %d (%.2fx)", sent, cliTransferSize, float64(sent)/cliTransferSize)
		}
		stat := env.mustRun(t, "", "stat", "s3://cli/big.bin", "-o", "json")
		if !strings.Contains(stat, wantDigest) {
			t.Errorf("stat after upload: %s, want digest %s", stat, wantDigest)
		}
	})

	t.Run("download resumes after kill", func(t *testing.T) {
		out := filepath.Join(dir, "downloaded.bin")
		before := proxy.downloadBytes.Load()
		held, release := proxy.holdAfter(&proxy.downloadBytes, cliTransferSize*2/5)
		killWhenHeld(t, env.command(t, "", "cp", "s3://cli/big.bin", out), held, release)
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("the target exists after the killed download: %v", err)
		}
		partials, _ := filepath.Glob(filepath.Join(dir, ".downloaded.bin.coffer-*.part"))
		if len(partials) != 1 {
			t.Fatalf("partial files %v, want 1", partials)
		}

		env.mustRun(t, "", "cp", "s3://cli/big.bin", out)
		if got := fileDigest(t, out); got != wantDigest {
			t.Errorf("downloaded file digest %s, want %s", got, wantDigest)
		}
		if read := proxy.downloadBytes.Load() - before; read >= cliTransferSize*3/2 {
			t.Errorf("the server sent %d bytes for a %d-byte object, want under 1.5 times", read, cliTransferSize)
		} else {
			t.Logf("download with one kill: the server sent %d bytes for %d (%.2fx)", read, cliTransferSize, float64(read)/cliTransferSize)
		}
	})

	t.Run("503 is retried", func(t *testing.T) {
		proxy.unavailable.Store(2)
		start := time.Now()
		env.mustRun(t, "", "mb", "s3://retried")
		if got := proxy.served503.Load(); got != 2 {
			t.Errorf("the proxy answered %d requests with 503, want 2", got)
		}
		if elapsed := time.Since(start); elapsed < 2*time.Second {
			t.Errorf("mb took %v through two 503s with Retry-After: 1, want at least 2s", elapsed)
		}
		proxy.unavailable.Store(10)
		_, _, code := env.run(t, "", "ls", "--retries", "2")
		if code != 7 {
			t.Errorf("ls through persistent 503s exited with %d, want 7 (unavailable)", code)
		}
		proxy.unavailable.Store(0)
	})

	t.Run("json output", func(t *testing.T) {
		small := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(small, []byte("release notes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "cp-upload", env.mustRun(t, "", "cp", small, "s3://cli/docs/", "-o", "json"), dir)
		checkGolden(t, "stat", env.mustRun(t, "", "stat", "s3://cli/docs/notes.txt", "-o", "json"), dir)
		checkGolden(t, "ls-objects", env.mustRun(t, "", "ls", "s3://cli/", "-o", "json"), dir)
		checkGolden(t, "ls-recursive", env.mustRun(t, "", "ls", "-r", "s3://cli/docs/", "-o", "json"), dir)
		checkGolden(t, "push", env.mustRun(t, "", "push", "cli/notes:v1", small, "--annotation", "team=platform", "-o", "json"), dir)
		checkGolden(t, "tags", env.mustRun(t, "", "tags", "cli/notes", "-o", "json"), dir)
		checkGolden(t, "pull", env.mustRun(t, "", "pull", "cli/notes:v1", "-d", filepath.Join(dir, "pulled"), "-o", "json"), dir)
		checkGolden(t, "webhook-create", env.mustRun(t, "", "webhook", "create", "cli-hook", "http://127.0.0.1:1/hook", "--type", "io.coffer.object.*", "-o", "json"), dir)
		checkGolden(t, "webhook-ls", env.mustRun(t, "", "webhook", "ls", "-o", "json"), dir)
		checkGolden(t, "usage", env.mustRun(t, "", "usage", "s3://cli", "-o", "json"), dir)
		checkGolden(t, "rm", env.mustRun(t, "", "rm", "-r", "s3://cli/docs", "-o", "json"), dir)
		if _, _, code := env.run(t, "", "stat", "s3://cli/docs/notes.txt"); code != 3 {
			t.Errorf("stat of a deleted object exited with %d, want 3 (not found)", code)
		}
	})

	t.Run("completion", func(t *testing.T) {
		script := env.mustRun(t, "", "completion", "bash")
		path := filepath.Join(dir, "coffer.bash")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		out := runShell(t, "bash", "source "+path+" && complete -p coffer")
		if !strings.Contains(out, "coffer") || !strings.Contains(out, "-F") {
			t.Errorf("bash completion registered %q, want a function for coffer", out)
		}
		words := runShell(t, "bash", "cd "+dir+" && "+env.binary+" __complete web")
		if !strings.Contains(words, "webhook") {
			t.Errorf("completion of \"web\": %q, want webhook", words)
		}
		zshScript := env.mustRun(t, "", "completion", "zsh")
		if !strings.HasPrefix(zshScript, "#compdef coffer") {
			t.Errorf("zsh completion starts with %q, want #compdef coffer", zshScript[:min(len(zshScript), 40)])
		}
		zshPath := filepath.Join(dir, "_coffer")
		if err := os.WriteFile(zshPath, []byte(zshScript), 0o644); err != nil {
			t.Fatal(err)
		}
		// compinit sets up zsh's completion system, and the script then
		// registers its function for the coffer command.
		zsh := filepath.Join(os.Getenv(toolsBinEnv), "zsh")
		registered := runShell(t, zsh, "autoload -U compinit && compinit -u -D && source "+zshPath+" && print -r -- ${_comps[coffer]}")
		if got := strings.TrimSpace(registered); got != "_coffer" {
			t.Errorf("zsh completion function for coffer = %q, want _coffer", got)
		}
	})
}

// loginWithDevice runs coffer login --device, approves the code it prints
// as alice, and waits for the login to finish.
func loginWithDevice(t *testing.T, env *cliEnv, kc *keycloak.Server, issuer string) {
	t.Helper()
	cmd := env.command(t, "", "login", "--device", "--issuer", issuer)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`enter the code ([A-Z]{4}-[A-Z]{4})`)
	scanner := bufio.NewScanner(stderr)
	var rest strings.Builder
	for scanner.Scan() {
		line := scanner.Text()
		if m := code.FindStringSubmatch(line); m != nil {
			if err := kc.ApproveDevice("coffer", m[1], "alice"); err != nil {
				t.Errorf("approve %s: %v", m[1], err)
			}
			continue
		}
		rest.WriteString(line + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("coffer login --device: %v\n%s%s", err, stdout.String(), rest.String())
	}
	if !strings.Contains(stdout.String(), "(device,") {
		t.Errorf("login printed %q, want the device method", stdout.String())
	}
}

// drainOffsets empties the record of chunk offsets.
func drainOffsets(p *cliProxy) {
	for {
		select {
		case <-p.firstOffsets:
		default:
			return
		}
	}
}

func fileDigest(t *testing.T, path string) string {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	return readerDigest(t, file)
}

func runShell(t *testing.T, shell, script string) string {
	t.Helper()
	out, err := execOutput(shell, "-c", script)
	if err != nil {
		t.Fatalf("%s -c %q: %v\n%s", shell, script, err, out)
	}
	return out
}

// goldenReplacements make JSON output comparable between runs.
var goldenReplacements = []struct {
	pattern *regexp.Regexp
	with    string
}{
	{regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"`), `"<time>"`},
	{regexp.MustCompile(`"secret": "[0-9a-f]{64}"`), `"secret": "<secret>"`},
}

// checkGolden compares output with testdata/cli/<name>.json after the
// replacements and with the test's folder written as <dir>;
// -update-cli-golden rewrites the file.
func checkGolden(t *testing.T, name, output, dir string) {
	t.Helper()
	if dir != "" {
		output = strings.ReplaceAll(output, dir, "<dir>")
	}
	for _, r := range goldenReplacements {
		output = r.pattern.ReplaceAllString(output, r.with)
	}
	path := filepath.Join("testdata", "cli", name+".json")
	if *updateCLIGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(output), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run with -update-cli-golden to create it)", err)
	}
	if output != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, output, want)
	}
}
