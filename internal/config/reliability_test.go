package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

func TestStorageReliabilityDefaultsMatchDriver(t *testing.T) {
	want := config.StorageReliability{
		Enabled:          true,
		MaxAttempts:      reliable.DefaultMaxAttempts,
		BaseDelay:        reliable.DefaultBaseDelay,
		MaxDelay:         reliable.DefaultMaxDelay,
		OperationTimeout: reliable.DefaultOperationTimeout,
		BreakerThreshold: reliable.DefaultBreakerThreshold,
		BreakerCooldown:  reliable.DefaultBreakerCooldown,
	}
	if got := config.Default().Storage.Reliability; got != want {
		t.Errorf("storage.reliability defaults = %+v, want %+v", got, want)
	}
}

func TestStorageReliabilityFromEnvironment(t *testing.T) {
	cfg, unknown, err := config.Load(config.Flags{}, []string{
		"COFFER_STORAGE_RELIABILITY_ENABLED=true",
		"COFFER_STORAGE_RELIABILITY_MAX_ATTEMPTS=6",
		"COFFER_STORAGE_RELIABILITY_BASE_DELAY=50ms",
		"COFFER_STORAGE_RELIABILITY_MAX_DELAY=5s",
		"COFFER_STORAGE_RELIABILITY_OPERATION_TIMEOUT=1m",
		"COFFER_STORAGE_RELIABILITY_BREAKER_THRESHOLD=10",
		"COFFER_STORAGE_RELIABILITY_BREAKER_COOLDOWN=30s",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(unknown) != 0 {
		t.Errorf("unknown variables = %q, want none", unknown)
	}
	want := config.StorageReliability{
		Enabled: true, MaxAttempts: 6, BaseDelay: 50 * time.Millisecond, MaxDelay: 5 * time.Second,
		OperationTimeout: time.Minute, BreakerThreshold: 10, BreakerCooldown: 30 * time.Second,
	}
	if cfg.Storage.Reliability != want {
		t.Errorf("storage.reliability = %+v, want %+v", cfg.Storage.Reliability, want)
	}
}

func TestStorageReliabilityFromFile(t *testing.T) {
	path := writeConfig(t, `
storage:
  reliability:
    max_attempts: 1
    breaker_cooldown: 1m
`)
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got := cfg.Storage.Reliability
	if got.MaxAttempts != 1 || got.BreakerCooldown != time.Minute {
		t.Errorf("max_attempts %d, breaker_cooldown %s; want 1 and 1m", got.MaxAttempts, got.BreakerCooldown)
	}
	if !got.Enabled || got.BreakerThreshold != 5 {
		t.Errorf("keys missing from the file: enabled %t, breaker_threshold %d; want the defaults true and 5", got.Enabled, got.BreakerThreshold)
	}
}

func TestStorageReliabilityRejectsInvalidValues(t *testing.T) {
	cases := []struct {
		name    string
		environ []string
		want    string
	}{
		{"no attempts", []string{"COFFER_STORAGE_RELIABILITY_MAX_ATTEMPTS=0"}, "storage.reliability.max_attempts: must be at least 1, got 0"},
		{"zero base delay", []string{"COFFER_STORAGE_RELIABILITY_BASE_DELAY=0s"}, "storage.reliability.base_delay: must be positive, got 0s"},
		{"negative max delay", []string{"COFFER_STORAGE_RELIABILITY_MAX_DELAY=-1s"}, "storage.reliability.max_delay: must be positive, got -1s"},
		{"max delay below base delay", []string{"COFFER_STORAGE_RELIABILITY_BASE_DELAY=3s"}, "storage.reliability.max_delay: must be at least base_delay (3s), got 2s"},
		{"zero timeout", []string{"COFFER_STORAGE_RELIABILITY_OPERATION_TIMEOUT=0s"}, "storage.reliability.operation_timeout: must be positive, got 0s"},
		{"zero threshold", []string{"COFFER_STORAGE_RELIABILITY_BREAKER_THRESHOLD=0"}, "storage.reliability.breaker_threshold: must be at least 1, got 0"},
		{"zero cooldown", []string{"COFFER_STORAGE_RELIABILITY_BREAKER_COOLDOWN=0s"}, "storage.reliability.breaker_cooldown: must be positive, got 0s"},
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

func TestStorageReliabilityDisabledSkipsValidation(t *testing.T) {
	_, _, err := config.Load(config.Flags{}, []string{
		"COFFER_STORAGE_RELIABILITY_ENABLED=false",
		"COFFER_STORAGE_RELIABILITY_MAX_ATTEMPTS=0",
	})
	if err != nil {
		t.Errorf("Load with reliability disabled: %v", err)
	}
}
