package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/cofferhq/coffer/pkg/client"
)

// loadFor parses args as the global flags and loads the settings from
// them, env and the config file.
func loadFor(t *testing.T, config string, env map[string]string, args ...string) (Settings, error) {
	t.Helper()
	flags := pflag.NewFlagSet("coffer", pflag.ContinueOnError)
	registerSettingFlags(flags)
	if err := flags.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadSettings(flags, config, func(k string) string { return env[k] })
}

func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("server: http://from-file:5000\noutput: json\nparallel: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"COFFER_PARALLEL": "6", "XDG_STATE_HOME": dir}

	s, err := loadFor(t, config, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.Server != "http://from-file:5000" || s.Output != "json" {
		t.Errorf("file settings: server %q output %q, want the file's", s.Server, s.Output)
	}
	if s.Parallel != 6 {
		t.Errorf("parallel = %d, want 6 from the environment over the file's 2", s.Parallel)
	}
	if s.ChunkSizeMiB != 16 || s.Retries != 4 || s.Progress != "auto" {
		t.Errorf("defaults: %+v", s)
	}
	if s.CredentialsFile != filepath.Join(dir, "credentials.json") {
		t.Errorf("credentials file %q, want beside the config file", s.CredentialsFile)
	}

	s, err = loadFor(t, config, env, "--parallel", "9", "-o", "text", "--server", "http://from-flag:1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Parallel != 9 || s.Output != "text" || s.Server != "http://from-flag:1" {
		t.Errorf("flags: parallel %d output %q server %q, want the flags' values", s.Parallel, s.Output, s.Server)
	}
}

func TestSettingsRejected(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("sever: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFor(t, config, nil); err == nil || !strings.Contains(err.Error(), "sever") {
		t.Errorf("unknown config key: %v, want an error naming it", err)
	}
	_, err := loadFor(t, filepath.Join(dir, "none.yaml"), map[string]string{"COFFER_OUTPUT": "yaml"})
	if ExitCode(err) != ExitUsage {
		t.Errorf("output yaml: %v (exit %d), want a usage error", err, ExitCode(err))
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{usageError{errors.New("bad flag")}, ExitUsage},
		{&client.Error{StatusCode: 404}, ExitNotFound},
		{&client.Error{StatusCode: 401}, ExitAuth},
		{&client.Error{StatusCode: 403}, ExitAuth},
		{errNotLoggedIn, ExitAuth},
		{&client.Error{StatusCode: 409}, ExitConflict},
		{&client.IntegrityError{}, ExitIntegrity},
		{&client.Error{StatusCode: 503}, ExitUnavailable},
		{&client.Error{StatusCode: 500}, ExitError},
	}
	for _, c := range cases {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
