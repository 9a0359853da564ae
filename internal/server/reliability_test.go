package server

import (
	"testing"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

func TestStorageSubsystemWrapsDriver(t *testing.T) {
	cfg := config.Default().Storage
	cfg.Driver = "memory"
	s := &storageSubsystem{cfg: cfg}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.reliability == nil {
		t.Fatalf("storage driver is not wrapped with storage.reliability enabled")
	}
	if s.driver != s.reliability {
		t.Errorf("driver = %T, want the reliable driver outermost", s.driver)
	}
	if got := s.reliability.BreakerState(); got != reliable.Closed {
		t.Errorf("breaker = %s, want closed", got)
	}
	if err := s.Health(t.Context()); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func TestStorageSubsystemReliabilityDisabled(t *testing.T) {
	cfg := config.Default().Storage
	cfg.Driver = "memory"
	cfg.Reliability.Enabled = false
	s := &storageSubsystem{cfg: cfg}
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.reliability != nil {
		t.Errorf("storage driver is wrapped with storage.reliability disabled")
	}
	if _, ok := s.driver.(*reliable.Driver); ok {
		t.Errorf("driver = %T, want the memory driver", s.driver)
	}
}
