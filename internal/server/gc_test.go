package server

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/cofferhq/coffer/internal/config"
)

// loadConfig loads the default configuration with a temporary data
// directory and the given environment.
func loadConfig(t *testing.T, environ ...string) config.Config {
	t.Helper()
	cfg, _, err := config.Load(config.Flags{DataDir: t.TempDir()}, environ)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return cfg
}

func TestCollectGarbageRejectsMemoryStorage(t *testing.T) {
	cfg := loadConfig(t, "COFFER_STORAGE_DRIVER=memory")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	_, err := CollectGarbage(t.Context(), cfg, logger, true)
	if !errors.Is(err, errMemoryStorage) {
		t.Errorf("CollectGarbage on memory storage: error = %v, want errMemoryStorage", err)
	}
	_, err = Scrub(t.Context(), cfg, logger)
	if !errors.Is(err, errMemoryStorage) {
		t.Errorf("Scrub on memory storage: error = %v, want errMemoryStorage", err)
	}
}

func TestMaintenanceOnEmptyStores(t *testing.T) {
	cfg := loadConfig(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	report, err := CollectGarbage(t.Context(), cfg, logger, false)
	if err != nil {
		t.Fatalf("CollectGarbage: %v", err)
	}
	if report.FreedBytes() != 0 || report.Failures != 0 || report.DryRun {
		t.Errorf("CollectGarbage on empty stores = %+v, want nothing freed, no failures, not a dry run", report)
	}

	scrub, err := Scrub(t.Context(), cfg, logger)
	if err != nil {
		t.Fatalf("Scrub: %v", err)
	}
	if scrub.Blobs != 0 || scrub.Damaged() || scrub.Failures != 0 {
		t.Errorf("Scrub on empty stores = %+v, want nothing checked and no damage", scrub)
	}
}
