package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
)

// writeConfig writes a YAML configuration file and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "coffer.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write config file: %v", err)
	}
	return path
}

// loadError loads and returns the error message, failing when there is none.
func loadError(t *testing.T, flags config.Flags, environ []string) string {
	t.Helper()
	_, _, err := config.Load(flags, environ)
	if err == nil {
		t.Fatalf("Load(%+v, %q) succeeded, want an error", flags, environ)
	}
	return err.Error()
}

func TestLoadDefaults(t *testing.T) {
	cfg, unknown, err := config.Load(config.Flags{}, []string{"PATH=/bin", "HOME=/root"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables = %q, want none", unknown)
	}
	want := config.Default()
	want.Storage.Filesystem.Root = filepath.Join("coffer-data", "storage")
	want.Metadata.SQLite.Path = filepath.Join("coffer-data", "metadata.db")
	want.Audit.File.Path = filepath.Join("coffer-data", "audit", "audit.log")
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load = %+v, want %+v", cfg, want)
	}
	if cfg.Registry.MaxManifestBytes != 4<<20 || cfg.ShutdownTimeout != 30*time.Second || cfg.TLS.Enabled() || cfg.S3.BackgroundJoins != 4 {
		t.Errorf("defaults: max manifest %d, shutdown %s, TLS %t, background joins %d",
			cfg.Registry.MaxManifestBytes, cfg.ShutdownTimeout, cfg.TLS.Enabled(), cfg.S3.BackgroundJoins)
	}
}

func TestLoadFile(t *testing.T) {
	path := writeConfig(t, `
listen: 0.0.0.0:5001
data_dir: /srv/coffer
root:
  user: admin
  password: password123
s3:
  listen: 0.0.0.0:9001
storage:
  driver: memory
  filesystem:
    root: /mnt/blobs
    direct_io: false
metadata:
  sqlite:
    path: /var/lib/coffer/meta.db
registry:
  max_manifest_bytes: 8388608
log:
  format: json
  level: debug
shutdown_timeout: 1m30s
`)
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	checks := []struct{ key, got, want string }{
		{"listen", cfg.Listen, "0.0.0.0:5001"},
		{"data_dir", cfg.DataDir, "/srv/coffer"},
		{"root.user", cfg.Root.User, "admin"},
		{"s3.listen", cfg.S3.Listen, "0.0.0.0:9001"},
		{"storage.driver", cfg.Storage.Driver, "memory"},
		{"storage.filesystem.root", cfg.Storage.Filesystem.Root, "/mnt/blobs"},
		{"storage.filesystem.direct_io", strconv.FormatBool(cfg.Storage.Filesystem.DirectIO), "false"},
		{"metadata.sqlite.path", cfg.Metadata.SQLite.Path, "/var/lib/coffer/meta.db"},
		{"log.format", cfg.Log.Format, "json"},
		{"log.level", cfg.Log.Level, "debug"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.key, c.got, c.want)
		}
	}
	if cfg.Registry.MaxManifestBytes != 8<<20 {
		t.Errorf("registry.max_manifest_bytes = %d", cfg.Registry.MaxManifestBytes)
	}
	if cfg.ShutdownTimeout != 90*time.Second {
		t.Errorf("shutdown_timeout = %s", cfg.ShutdownTimeout)
	}
}

func TestLoadEmptyFileKeepsDefaults(t *testing.T) {
	cfg, _, err := config.Load(config.Flags{ConfigFile: writeConfig(t, "")}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Listen != "127.0.0.1:5000" || cfg.Storage.Driver != "filesystem" {
		t.Errorf("empty file: listen %q, storage driver %q", cfg.Listen, cfg.Storage.Driver)
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	for _, c := range []struct{ content, key string }{
		{"listne: 127.0.0.1:5000\n", "listne"},
		{"storage:\n  drver: memory\n", "drver"},
		{"log:\n  level: info\n  colour: true\n", "colour"},
	} {
		message := loadError(t, config.Flags{ConfigFile: writeConfig(t, c.content)}, nil)
		if !strings.Contains(message, c.key) {
			t.Errorf("unknown key %q: error %q does not name it", c.key, message)
		}
	}
}

// TestLoadFileTypeErrorNamesKey checks that a YAML value of the wrong type
// is reported with its key, as every other invalid value is.
func TestLoadFileTypeErrorNamesKey(t *testing.T) {
	for _, c := range []struct{ content, key string }{
		{"registry:\n  max_manifest_bytes: lots\n", "max_manifest_bytes"},
		{"shutdown_timeout: soon\n", "shutdown_timeout"},
		{"listen: [a, b]\n", "listen"},
	} {
		message := loadError(t, config.Flags{ConfigFile: writeConfig(t, c.content)}, nil)
		if !strings.Contains(message, c.key) {
			t.Errorf("value of the wrong type for %s: error %q does not name the key", c.key, message)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	if message := loadError(t, config.Flags{ConfigFile: path}, nil); !strings.Contains(message, "absent.yaml") {
		t.Errorf("missing file: error %q does not name the file", message)
	}
}

func TestLoadEnvironment(t *testing.T) {
	cfg, unknown, err := config.Load(config.Flags{}, []string{
		"COFFER_STORAGE_DRIVER=memory",
		"COFFER_DATA_DIR=/data",
		"COFFER_REGISTRY_MAX_MANIFEST_BYTES=2048",
		"COFFER_SHUTDOWN_TIMEOUT=45s",
		"COFFER_LOG_LEVEL=warn",
		"COFFER_ROOT_USER=ops",
		"COFFER_ROOT_PASSWORD=longenough",
		"COFFER_STORAGE_DRIVR=memory",
		"COFFER_UNUSED=1",
		"OTHER_STORAGE_DRIVER=filesystem",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Storage.Driver != "memory" || cfg.DataDir != "/data" || cfg.Log.Level != "warn" || cfg.Root.User != "ops" {
		t.Errorf("environment not applied: %+v", cfg)
	}
	if cfg.Storage.Filesystem.Root != "/data/storage" || cfg.Metadata.SQLite.Path != "/data/metadata.db" {
		t.Errorf("paths below COFFER_DATA_DIR: storage %q, metadata %q", cfg.Storage.Filesystem.Root, cfg.Metadata.SQLite.Path)
	}
	if cfg.Registry.MaxManifestBytes != 2048 || cfg.ShutdownTimeout != 45*time.Second {
		t.Errorf("max manifest %d, shutdown %s", cfg.Registry.MaxManifestBytes, cfg.ShutdownTimeout)
	}
	slices.Sort(unknown)
	if want := []string{"COFFER_STORAGE_DRIVR", "COFFER_UNUSED"}; !slices.Equal(unknown, want) {
		t.Errorf("unknown variables = %q, want %q", unknown, want)
	}
}

func TestLoadRedirectFromEnvironment(t *testing.T) {
	cfg, _, err := config.Load(config.Flags{}, []string{
		"COFFER_STORAGE_DRIVER=s3",
		"COFFER_STORAGE_S3_BUCKET=blobs",
		"COFFER_STORAGE_S3_REDIRECT=true",
		"COFFER_STORAGE_S3_REDIRECT_EXPIRY=90s",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !cfg.Storage.S3.Redirect {
		t.Error("storage.s3.redirect = false, want true")
	}
	if cfg.Storage.S3.RedirectExpiry != 90*time.Second {
		t.Errorf("storage.s3.redirect_expiry = %s, want 1m30s", cfg.Storage.S3.RedirectExpiry)
	}
}

func TestLoadEnvironmentRejectsInvalidValues(t *testing.T) {
	for _, variable := range []string{
		"COFFER_REGISTRY_MAX_MANIFEST_BYTES=4MiB",
		"COFFER_SHUTDOWN_TIMEOUT=30",
	} {
		name, _, _ := strings.Cut(variable, "=")
		if message := loadError(t, config.Flags{}, []string{variable}); !strings.Contains(message, name) {
			t.Errorf("%s: error %q does not name the variable", variable, message)
		}
	}
}

// TestLoadPrecedence checks that flags beat the environment, which beats
// the file, which beats the defaults.
func TestLoadPrecedence(t *testing.T) {
	path := writeConfig(t, "listen: 127.0.0.1:1001\ndata_dir: /from/file\nlog:\n  format: json\n")
	env := []string{"COFFER_LISTEN=127.0.0.1:1002", "COFFER_DATA_DIR=/from/env"}
	flags := config.Flags{ConfigFile: path, Listen: "127.0.0.1:1003", DataDir: "/from/flag"}
	cases := []struct {
		name          string
		flags         config.Flags
		env           []string
		listen, data  string
		storage, logs string
	}{
		{"file", config.Flags{ConfigFile: path}, nil, "127.0.0.1:1001", "/from/file", "/from/file/storage", "json"},
		{"environment over file", config.Flags{ConfigFile: path}, env, "127.0.0.1:1002", "/from/env", "/from/env/storage", "json"},
		{"flags over environment", flags, env, "127.0.0.1:1003", "/from/flag", "/from/flag/storage", "json"},
		{"flag over file", config.Flags{ConfigFile: path, LogFormat: "text"}, nil, "127.0.0.1:1001", "/from/file", "/from/file/storage", "text"},
	}
	for _, c := range cases {
		cfg, _, err := config.Load(c.flags, c.env)
		if err != nil {
			t.Errorf("%s: Load: %v", c.name, err)
			continue
		}
		if cfg.Listen != c.listen || cfg.DataDir != c.data || cfg.Storage.Filesystem.Root != c.storage || cfg.Log.Format != c.logs {
			t.Errorf("%s: listen %q, data_dir %q, storage root %q, log format %q; want %q, %q, %q, %q",
				c.name, cfg.Listen, cfg.DataDir, cfg.Storage.Filesystem.Root, cfg.Log.Format, c.listen, c.data, c.storage, c.logs)
		}
	}
}

func TestLoadRejectsInvalidValuesByKey(t *testing.T) {
	cases := []struct{ content, key string }{
		{"listen: localhost\n", "listen"},
		{"s3:\n  listen: 9000\n", "s3.listen"},
		{"s3:\n  background_joins: -1\n", "s3.background_joins"},
		{"data_dir: \"\"\n", "data_dir"},
		{"tls:\n  cert: /c.pem\n", "tls"},
		{"root:\n  user: admin\n", "root"},
		{"root:\n  user: admin\n  password: short\n", "root.password"},
		{"storage:\n  driver: tape\n", "storage.driver"},
		{"storage:\n  driver: s3\n", "storage.s3.bucket"},
		{"storage:\n  s3:\n    redirect: true\n", "storage.s3.redirect"},
		{"storage:\n  driver: s3\n  s3:\n    bucket: b\n    redirect: true\n    redirect_expiry: 200h\n", "storage.s3.redirect_expiry"},
		{"metadata:\n  driver: mysql\n", "metadata.driver"},
		{"metadata:\n  driver: postgres\n", "metadata.postgres.url"},
		{"registry:\n  max_manifest_bytes: 100\n", "registry.max_manifest_bytes"},
		{"log:\n  format: xml\n", "log.format"},
		{"log:\n  level: loud\n", "log.level"},
		{"shutdown_timeout: 0s\n", "shutdown_timeout"},
	}
	for _, c := range cases {
		message := loadError(t, config.Flags{ConfigFile: writeConfig(t, c.content)}, nil)
		if !strings.Contains(message, c.key+":") {
			t.Errorf("%q: error %q does not name key %s", c.content, message, c.key)
		}
	}

	message := loadError(t, config.Flags{}, []string{"COFFER_STORAGE_DRIVER=tape", "COFFER_LOG_LEVEL=loud"})
	for _, key := range []string{"storage.driver", "log.level"} {
		if !strings.Contains(message, key+":") {
			t.Errorf("two invalid values: error %q does not name %s", message, key)
		}
	}
}

func TestEnvNames(t *testing.T) {
	names := config.EnvNames()
	for _, want := range []string{
		"COFFER_LISTEN", "COFFER_DATA_DIR", "COFFER_TLS_CERT", "COFFER_ROOT_PASSWORD", "COFFER_S3_LISTEN",
		"COFFER_STORAGE_DRIVER", "COFFER_STORAGE_FILESYSTEM_ROOT", "COFFER_METADATA_SQLITE_PATH",
		"COFFER_REGISTRY_MAX_MANIFEST_BYTES", "COFFER_LOG_FORMAT", "COFFER_SHUTDOWN_TIMEOUT",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("EnvNames lacks %s", want)
		}
	}
	if names[0] != "COFFER_LISTEN" {
		t.Errorf("EnvNames starts with %s, want COFFER_LISTEN (declaration order)", names[0])
	}
}

func TestEnvListValue(t *testing.T) {
	cfg, _, err := config.Load(config.Flags{}, []string{"COFFER_CORS_ALLOWED_ORIGINS=https://a.example, https://b.example,"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []string{"https://a.example", "https://b.example"}
	if !reflect.DeepEqual(cfg.CORS.AllowedOrigins, want) {
		t.Errorf("allowed origins = %q, want %q", cfg.CORS.AllowedOrigins, want)
	}
	_, _, err = config.Load(config.Flags{}, []string{"COFFER_CORS_ALLOWED_ORIGINS=example.com"})
	if err == nil || !strings.Contains(err.Error(), "cors.allowed_origins") {
		t.Errorf("an origin without a scheme: error %v, want one naming cors.allowed_origins", err)
	}
}
