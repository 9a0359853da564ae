package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAuditFromEnv(t *testing.T) {
	env := []string{
		"COFFER_DATA_DIR=/var/lib/coffer",
		"COFFER_AUDIT_STRICT=true",
		"COFFER_AUDIT_STDOUT=true",
		"COFFER_AUDIT_HTTP_URL=http://127.0.0.1:9880/audit",
		"COFFER_LIMITS_FAILED_LOGINS_PER_ADDRESS=3",
		"COFFER_LIMITS_FAILED_LOGIN_DELAY=0s",
	}
	cfg, unknown, err := Load(Flags{}, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables %q, want none", unknown)
	}
	if !cfg.Audit.Strict || !cfg.Audit.Stdout || cfg.Audit.HTTP.URL != "http://127.0.0.1:9880/audit" {
		t.Errorf("audit = %+v", cfg.Audit)
	}
	if want := filepath.Join("/var/lib/coffer", "audit", "audit.log"); cfg.Audit.File.Path != want {
		t.Errorf("audit.file.path = %q, want %q", cfg.Audit.File.Path, want)
	}
	if cfg.Limits.FailedLogins.PerAddress != 3 || cfg.Limits.FailedLoginDelay != 0 || cfg.Limits.FailedLogins.Window != time.Minute {
		t.Errorf("limits = %+v", cfg.Limits)
	}
}

func TestAuditAndLimitsRejected(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"no sink", []string{"COFFER_AUDIT_FILE_ENABLED=false"}, "audit: no sink is enabled"},
		{"bad url", []string{"COFFER_AUDIT_HTTP_URL=ftp://collector/x"}, `audit.http.url: invalid endpoint "ftp://collector/x"`},
		{"zero queue", []string{"COFFER_AUDIT_HTTP_URL=http://c/x", "COFFER_AUDIT_HTTP_QUEUE_SIZE=0"}, "audit.http.queue_size: must be at least 1, got 0"},
		{"zero timeout", []string{"COFFER_AUDIT_HTTP_URL=http://c/x", "COFFER_AUDIT_HTTP_TIMEOUT=0s"}, "audit.http.timeout: must be positive"},
		{"negative size", []string{"COFFER_AUDIT_FILE_MAX_SIZE_MB=-1"}, "audit.file.max_size_mb: must be 0 (never rotate) or positive, got -1"},
		{"negative files", []string{"COFFER_AUDIT_FILE_MAX_FILES=-2"}, "audit.file.max_files: must be 0 (keep all) or positive, got -2"},
		{"long delay", []string{"COFFER_LIMITS_FAILED_LOGIN_DELAY=1m"}, "limits.failed_login_delay: must be from 0 to 10s, got 1m0s"},
		{"negative limit", []string{"COFFER_LIMITS_TOKEN_REQUESTS_PER_PRINCIPAL=-1"}, "limits.token_requests.per_principal: must be 0 (off) or positive"},
		{"short window", []string{"COFFER_LIMITS_FAILED_LOGINS_WINDOW=10ms"}, "limits.failed_logins.window: must be at least 1s, got 10ms"},
		{"no clients", []string{"COFFER_LIMITS_MAX_TRACKED_CLIENTS=0"}, "limits.max_tracked_clients: must be at least 1"},
	}
	for _, c := range cases {
		_, _, err := Load(Flags{}, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestAuditDisabledNeedsNoSink(t *testing.T) {
	_, _, err := Load(Flags{}, []string{"COFFER_AUDIT_ENABLED=false", "COFFER_AUDIT_FILE_ENABLED=false"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
}
