package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/metadata/postgres"
)

// jobLocks lets one replica of a cluster at a time run each background
// job. postgres.AdvisoryLocks implements it with advisory locks; localJobLocks
// is the single-process version for SQLite.
type jobLocks interface {
	// TryLock takes the lock of job without waiting and reports whether
	// this replica holds it now.
	TryLock(ctx context.Context, job string) (bool, error)
	// Held reports whether this replica still holds the lock of job.
	Held(ctx context.Context, job string) (bool, error)
	// Unlock releases the lock of job.
	Unlock(ctx context.Context, job string) error
	// Close releases every lock.
	Close(ctx context.Context) error
}

// backgroundJob is a task that one replica of the cluster runs at a
// fixed interval.
type backgroundJob struct {
	name string
	// span names the root span of each run when tracing is enabled.
	span     string
	interval time.Duration
	run      func(ctx context.Context)
}

// newLocks returns the locks that fit the metadata store: advisory locks
// in PostgreSQL, which every replica shares, for background jobs and
// upload sessions; or, beside SQLite, which one process owns, in-process
// job locks and no shared session locks.
func newLocks(cfg config.Metadata) (jobLocks, blob.SharedSessionLocks, error) {
	if cfg.Driver != "postgres" {
		return &localJobLocks{held: map[string]bool{}}, nil, nil
	}
	locks, err := postgres.NewAdvisoryLocks(cfg.Postgres.URL, replicaName())
	if err != nil {
		return nil, nil, fmt.Errorf("cluster locks: %w", err)
	}
	return locks, locks, nil
}

// replicaName names this process in the lock table: the host name and the
// process ID, as pg_stat_activity.application_name shows them.
func replicaName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	name := fmt.Sprintf("cofferd %s pid %d", host, os.Getpid())
	const maxApplicationName = 63 // PostgreSQL cuts longer names
	if len(name) > maxApplicationName {
		name = name[:maxApplicationName]
	}
	return name
}

// jobRunner runs background jobs under their cluster-wide locks.
type jobRunner struct {
	locks  jobLocks
	check  time.Duration // how often a lock is tried or checked
	logger *slog.Logger
}

// loop runs until ctx ends. Until this replica holds the job's lock it
// tries to take it every check interval. While it holds it, it runs the job
// at once and then every job interval, and checks every check interval
// that it still holds the lock, which a broken database connection
// releases.
func (r *jobRunner) loop(ctx context.Context, job backgroundJob) {
	ticker := time.NewTicker(r.check)
	defer ticker.Stop()
	for {
		if r.tryLock(ctx, job.name) {
			r.lead(ctx, job)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// tryLock takes the job's lock, bounded by one check interval, and logs a
// failure to reach the lock store.
func (r *jobRunner) tryLock(ctx context.Context, name string) bool {
	lockCtx, cancel := context.WithTimeout(ctx, r.check)
	defer cancel()
	got, err := r.locks.TryLock(lockCtx, name)
	if err != nil && ctx.Err() == nil {
		r.logger.Warn("background job lock not taken", "job", name, "error", err)
	}
	return got
}

// lead runs the job while this replica holds its lock, and releases the
// lock when ctx ends.
func (r *jobRunner) lead(ctx context.Context, job backgroundJob) {
	r.logger.Info("background job lock taken", "job", job.name, "replica", replicaName())
	defer r.unlock(ctx, job.name)
	interval := time.NewTicker(job.interval)
	defer interval.Stop()
	check := time.NewTicker(r.check)
	defer check.Stop()

	job.run(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-interval.C:
			job.run(ctx)
		case <-check.C:
			if !r.held(ctx, job.name) {
				return
			}
		}
	}
}

// held reports whether this replica still holds the job's lock; an error
// counts as no.
func (r *jobRunner) held(ctx context.Context, name string) bool {
	checkCtx, cancel := context.WithTimeout(ctx, r.check)
	defer cancel()
	held, err := r.locks.Held(checkCtx, name)
	if ctx.Err() != nil {
		return false
	}
	if err != nil || !held {
		r.logger.Warn("background job lock lost", "job", name, "error", err)
		return false
	}
	return true
}

// unlock releases the job's lock, also after ctx has ended.
func (r *jobRunner) unlock(ctx context.Context, name string) {
	unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.check)
	defer cancel()
	if err := r.locks.Unlock(unlockCtx, name); err != nil {
		r.logger.Warn("background job lock not released", "job", name, "error", err)
	}
}

// localJobLocks are job locks inside one process, for the SQLite store,
// which only one process opens.
type localJobLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *localJobLocks) TryLock(ctx context.Context, job string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.held[job] = true
	return true, nil
}

func (l *localJobLocks) Held(ctx context.Context, job string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[job], nil
}

func (l *localJobLocks) Unlock(ctx context.Context, job string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, job)
	return nil
}

func (l *localJobLocks) Close(ctx context.Context) error { return nil }
