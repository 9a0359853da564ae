package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
)

func TestGCDefaults(t *testing.T) {
	want := config.GC{
		Enabled:      true,
		Interval:     time.Hour,
		GracePeriod:  time.Hour,
		UploadExpiry: 24 * time.Hour,
		Referrers:    "delete-with-subject",
		Scrub:        config.Scrub{Enabled: false, Interval: 168 * time.Hour, MaxMBPerSecond: 50},

		LockCheckInterval: 15 * time.Second,
	}
	if got := config.Default().GC; got != want {
		t.Errorf("gc defaults = %+v, want %+v", got, want)
	}
}

func TestGCFromFile(t *testing.T) {
	path := writeConfig(t, `
gc:
  grace_period: 2h
  untagged:
    delete_after: 72h
  referrers: keep
  scrub:
    enabled: true
    max_mb_per_second: 0
`)
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.GC{
		Enabled:      true,
		Interval:     time.Hour,
		GracePeriod:  2 * time.Hour,
		UploadExpiry: 24 * time.Hour,
		Untagged:     config.GCUntagged{DeleteAfter: 72 * time.Hour},
		Referrers:    "keep",
		Scrub:        config.Scrub{Enabled: true, Interval: 168 * time.Hour, MaxMBPerSecond: 0},

		LockCheckInterval: 15 * time.Second,
	}
	if cfg.GC != want {
		t.Errorf("gc = %+v, want %+v", cfg.GC, want)
	}
}

func TestGCFromEnvironment(t *testing.T) {
	cfg, unknown, err := config.Load(config.Flags{}, []string{
		"COFFER_GC_ENABLED=false",
		"COFFER_GC_INTERVAL=15m",
		"COFFER_GC_UPLOAD_EXPIRY=48h",
		"COFFER_GC_UNTAGGED_DELETE_AFTER=720h",
		"COFFER_GC_SCRUB_INTERVAL=24h",
		"COFFER_GC_SCRUB_MAX_MB_PER_SECOND=200",
		"COFFER_GC_LOCK_CHECK_INTERVAL=2s",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables = %q, want none", unknown)
	}
	got := cfg.GC
	if got.Enabled || got.Interval != 15*time.Minute || got.UploadExpiry != 48*time.Hour ||
		got.Untagged.DeleteAfter != 720*time.Hour || got.Scrub.Interval != 24*time.Hour || got.Scrub.MaxMBPerSecond != 200 ||
		got.LockCheckInterval != 2*time.Second {
		t.Errorf("gc = %+v, want the values of the environment", got)
	}
}

func TestGCRejectsInvalidValues(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		want    string
	}{
		{"short interval", []string{"COFFER_GC_INTERVAL=500ms"}, "gc.interval: must be at least 1s, got 500ms"},
		{"zero grace period", []string{"COFFER_GC_GRACE_PERIOD=0s"}, "gc.grace_period: must be at least 1s, got 0s"},
		{"short upload expiry", []string{"COFFER_GC_UPLOAD_EXPIRY=100ms"}, "gc.upload_expiry: must be at least 1s, got 100ms"},
		{"untagged age below the grace period", []string{"COFFER_GC_UNTAGGED_DELETE_AFTER=30m"},
			"gc.untagged.delete_after: must be 0 (keep untagged manifests) or at least grace_period (1h0m0s), got 30m0s"},
		{"negative untagged age", []string{"COFFER_GC_UNTAGGED_DELETE_AFTER=-1h"}, "gc.untagged.delete_after: must be 0"},
		{"unknown referrers policy", []string{"COFFER_GC_REFERRERS=orphan"},
			`gc.referrers: invalid value "orphan": expected one of ["delete-with-subject" "keep"]`},
		{"short scrub interval", []string{"COFFER_GC_SCRUB_INTERVAL=10ms"}, "gc.scrub.interval: must be at least 1s, got 10ms"},
		{"short lock check interval", []string{"COFFER_GC_LOCK_CHECK_INTERVAL=500ms"}, "gc.lock_check_interval: must be at least 1s, got 500ms"},
		{"negative scrub rate", []string{"COFFER_GC_SCRUB_MAX_MB_PER_SECOND=-5"}, "gc.scrub.max_mb_per_second: must be 0 (no cap) or positive, got -5"},
	}
	for _, tc := range cases {
		_, _, err := config.Load(config.Flags{}, tc.environ)
		if err == nil {
			t.Errorf("%s: Load succeeded, want an error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want it to contain %q", tc.name, err, tc.want)
		}
	}
}
