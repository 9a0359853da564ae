package config

import (
	"fmt"
	"path/filepath"
	"time"
)

// Audit configures the audit trail: one event per request on the OCI,
// management and S3 APIs, chained by hash.
type Audit struct {
	// Enabled writes audit events. Default true.
	Enabled bool `yaml:"enabled"`
	// Strict fails a request that changes state (any method but GET, HEAD
	// and OPTIONS) with 503 when its event cannot be written to every
	// sink. Default false, which logs the failure and counts it in
	// coffer_audit_sink_failures_total.
	Strict bool `yaml:"strict"`
	// File configures the rotated audit log file.
	File AuditFile `yaml:"file"`
	// Stdout writes every event to standard output as one JSON line.
	// Default false.
	Stdout bool `yaml:"stdout"`
	// HTTP sends events to a collector.
	HTTP AuditHTTP `yaml:"http"`
}

// AuditFile configures the audit log file.
type AuditFile struct {
	// Enabled writes the file. Default true.
	Enabled bool `yaml:"enabled"`
	// Path of the current file. Default DataDir/audit/audit.log.
	Path string `yaml:"path"`
	// MaxSizeMB rotates the file before it grows past this many megabytes
	// (10^6 bytes); 0 never rotates. Default 100.
	MaxSizeMB int64 `yaml:"max_size_mb"`
	// MaxFiles is how many rotated files are kept; 0 keeps all. Default 10.
	MaxFiles int `yaml:"max_files"`
}

// AuditHTTP configures the HTTP sink.
type AuditHTTP struct {
	// URL receives POST requests of newline-delimited JSON events. Empty
	// (the default) disables the sink.
	URL string `yaml:"url"`
	// Timeout bounds one POST. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// QueueSize is how many events wait while the collector is slow or
	// down; beyond it events are dropped and counted. Default 10000.
	QueueSize int `yaml:"queue_size"`
	// BatchSize is the most events in one POST. Default 100.
	BatchSize int `yaml:"batch_size"`
	// RetryDelay is the pause before a failed POST is retried. Default 5s.
	RetryDelay time.Duration `yaml:"retry_delay"`
}

var defaultAudit = Audit{
	Enabled: true,
	File:    AuditFile{Enabled: true, MaxSizeMB: 100, MaxFiles: 10},
	HTTP:    AuditHTTP{Timeout: 10 * time.Second, QueueSize: 10000, BatchSize: 100, RetryDelay: 5 * time.Second},
}

// resolvePath fills the default path of the audit file under dataDir.
func (a *Audit) resolvePath(dataDir string) {
	if a.File.Path == "" {
		a.File.Path = filepath.Join(dataDir, "audit", "audit.log")
	}
}

// validate checks the audit keys.
func (a Audit) validate() []error {
	if !a.Enabled {
		return nil
	}
	var errs []error
	if !a.File.Enabled && !a.Stdout && a.HTTP.URL == "" {
		errs = append(errs, fmt.Errorf("audit: no sink is enabled; enable audit.file, audit.stdout or audit.http.url, or set audit.enabled to false"))
	}
	if a.File.MaxSizeMB < 0 {
		errs = append(errs, fmt.Errorf("audit.file.max_size_mb: must be 0 (never rotate) or positive, got %d", a.File.MaxSizeMB))
	}
	if a.File.MaxFiles < 0 {
		errs = append(errs, fmt.Errorf("audit.file.max_files: must be 0 (keep all) or positive, got %d", a.File.MaxFiles))
	}
	if a.HTTP.URL == "" {
		return errs
	}

	if err := validateEndpoint(a.HTTP.URL); err != nil {
		errs = append(errs, fmt.Errorf("audit.http.url: %w", err))
	}
	if a.HTTP.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("audit.http.timeout: must be positive, got %s", a.HTTP.Timeout))
	}
	if a.HTTP.RetryDelay <= 0 {
		errs = append(errs, fmt.Errorf("audit.http.retry_delay: must be positive, got %s", a.HTTP.RetryDelay))
	}
	if a.HTTP.QueueSize < 1 {
		errs = append(errs, fmt.Errorf("audit.http.queue_size: must be at least 1, got %d", a.HTTP.QueueSize))
	}
	if a.HTTP.BatchSize < 1 {
		errs = append(errs, fmt.Errorf("audit.http.batch_size: must be at least 1, got %d", a.HTTP.BatchSize))
	}
	return errs
}

// Limits configures the abuse limits on logins and on the registry token
// endpoint. A limit of 0 turns that limit off.
type Limits struct {
	// FailedLoginDelay holds back the response to each failed login, so
	// one connection cannot try passwords quickly. Default 1s, at most 10s.
	FailedLoginDelay time.Duration `yaml:"failed_login_delay"`
	// FailedLogins limits failed logins: 401 to a request with credentials
	// on /v2 or /api/v1, and S3 403 SignatureDoesNotMatch or
	// InvalidAccessKeyId. Defaults 10 per address and 30 per principal
	// per 1m.
	FailedLogins RateLimit `yaml:"failed_logins"`
	// TokenRequests limits requests to /v2/token, successful or not.
	// Defaults 60 per address and 60 per principal per 1m.
	TokenRequests RateLimit `yaml:"token_requests"`
	// MaxTrackedClients bounds the addresses and principals each limit
	// remembers; past it, the least useful entries are forgotten. Default
	// 100000.
	MaxTrackedClients int `yaml:"max_tracked_clients"`
}

// RateLimit allows PerAddress events per client IP address and
// PerPrincipal events per claimed user name or access key ID within
// Window.
type RateLimit struct {
	PerAddress   int           `yaml:"per_address"`
	PerPrincipal int           `yaml:"per_principal"`
	Window       time.Duration `yaml:"window"`
}

var defaultLimits = Limits{
	FailedLoginDelay:  time.Second,
	FailedLogins:      RateLimit{PerAddress: 10, PerPrincipal: 30, Window: time.Minute},
	TokenRequests:     RateLimit{PerAddress: 60, PerPrincipal: 60, Window: time.Minute},
	MaxTrackedClients: 100000,
}

// maxFailedLoginDelay bounds limits.failed_login_delay: each delayed
// response holds a connection open that long.
const maxFailedLoginDelay = 10 * time.Second

// validate checks the limits keys.
func (l Limits) validate() []error {
	var errs []error
	if l.FailedLoginDelay < 0 || l.FailedLoginDelay > maxFailedLoginDelay {
		errs = append(errs, fmt.Errorf("limits.failed_login_delay: must be from 0 to %s, got %s", maxFailedLoginDelay, l.FailedLoginDelay))
	}
	errs = append(errs, l.FailedLogins.validate("limits.failed_logins")...)
	errs = append(errs, l.TokenRequests.validate("limits.token_requests")...)
	if l.MaxTrackedClients < 1 {
		errs = append(errs, fmt.Errorf("limits.max_tracked_clients: must be at least 1, got %d", l.MaxTrackedClients))
	}
	return errs
}

func (r RateLimit) validate(key string) []error {
	var errs []error
	if r.PerAddress < 0 {
		errs = append(errs, fmt.Errorf("%s.per_address: must be 0 (off) or positive, got %d", key, r.PerAddress))
	}
	if r.PerPrincipal < 0 {
		errs = append(errs, fmt.Errorf("%s.per_principal: must be 0 (off) or positive, got %d", key, r.PerPrincipal))
	}
	if (r.PerAddress > 0 || r.PerPrincipal > 0) && r.Window < time.Second {
		errs = append(errs, fmt.Errorf("%s.window: must be at least 1s, got %s", key, r.Window))
	}
	return errs
}
