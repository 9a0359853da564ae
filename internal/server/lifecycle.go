// Package server is the composition root of cofferd: it builds every
// subsystem from the configuration, starts them in dependency order,
// serves until the context ends and stops them in reverse order.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Subsystem is one part of cofferd with a lifecycle. Optional subsystems
// are added by the composition root only when the configuration enables
// them.
type Subsystem interface {
	// Name identifies the subsystem in logs and in /readyz.
	Name() string
	// Validate checks the subsystem's configuration before anything starts.
	Validate() error
	// Start acquires resources and begins serving. A subsystem may use the
	// subsystems started before it.
	Start(ctx context.Context) error
	// Stop releases resources; ctx bounds how long it may take.
	Stop(ctx context.Context) error
	// Health returns nil when the subsystem can serve requests.
	Health(ctx context.Context) error
}

// lifecycle starts subsystems in order and stops the started ones in reverse.
type lifecycle struct {
	logger *slog.Logger
	all    []Subsystem
	// mu guards started, which /readyz reads from request goroutines while
	// start and stop change it.
	mu      sync.Mutex
	started []Subsystem
	// complete is set once start has started every subsystem; /startupz
	// reads it from request goroutines.
	complete atomic.Bool
}

func (l *lifecycle) validate() error {
	var errs []error
	for _, s := range l.all {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

func (l *lifecycle) start(ctx context.Context) error {
	for _, s := range l.all {
		if err := s.Start(ctx); err != nil {
			return fmt.Errorf("start %s: %w", s.Name(), err)
		}
		l.mu.Lock()
		l.started = append(l.started, s)
		l.mu.Unlock()
		l.logger.Info("subsystem started", "subsystem", s.Name())
	}
	l.complete.Store(true)
	return nil
}

func (l *lifecycle) stop(ctx context.Context) error {
	l.mu.Lock()
	started := l.started
	l.started = nil
	l.mu.Unlock()

	var errs []error
	for i := len(started) - 1; i >= 0; i-- {
		s := started[i]
		if err := s.Stop(ctx); err != nil {
			l.logger.Error("subsystem stop failed", "subsystem", s.Name(), "error", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", s.Name(), err))
			continue
		}
		l.logger.Info("subsystem stopped", "subsystem", s.Name())
	}
	return errors.Join(errs...)
}

// health checks every started subsystem and returns the failures by name.
func (l *lifecycle) health(ctx context.Context) map[string]string {
	l.mu.Lock()
	started := append([]Subsystem(nil), l.started...)
	l.mu.Unlock()

	failures := map[string]string{}
	for _, s := range started {
		if err := s.Health(ctx); err != nil {
			failures[s.Name()] = err.Error()
		}
	}
	return failures
}
