package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// Default returns the configuration a newcomer gets with no file, no
// environment and no flags.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:5000",
		DataDir:         "./coffer-data",
		Auth:            Auth{OIDC: defaultOIDC()},
		S3:              S3{Enabled: true, Listen: "127.0.0.1:9000", Region: "us-east-1", MultipartExpiry: 7 * 24 * time.Hour, BackgroundJoins: 4},
		Storage:         Storage{Driver: "filesystem", VerifyReads: "checksums", Filesystem: FilesystemStorage{DirectIO: true}, S3: S3Storage{Region: "us-east-1", RedirectExpiry: 5 * time.Minute}, Reliability: defaultStorageReliability},
		Metadata:        Metadata{Driver: "sqlite"},
		Registry:        Registry{MaxManifestBytes: 4 << 20},
		GC:              defaultGC,
		CORS:            CORS{MaxAge: 10 * time.Minute},
		Log:             Log{Format: "text", Level: "info"},
		Metrics:         Metrics{Enabled: true, Path: "/metrics"},
		Webhooks:        defaultWebhooks,
		Audit:           defaultAudit,
		Limits:          defaultLimits,
		ShutdownTimeout: 30 * time.Second,
	}
}

// defaultStorageReliability matches the defaults of reliable.Options.
var defaultStorageReliability = StorageReliability{
	Enabled:          true,
	MaxAttempts:      4,
	BaseDelay:        100 * time.Millisecond,
	MaxDelay:         2 * time.Second,
	OperationTimeout: 30 * time.Second,
	BreakerThreshold: 5,
	BreakerCooldown:  10 * time.Second,
}

// defaultGC is the garbage collection a newcomer gets: hourly, with a grace
// period of an hour, untagged manifests kept, and no background scrub.
var defaultGC = GC{
	Enabled:      true,
	Interval:     time.Hour,
	GracePeriod:  time.Hour,
	UploadExpiry: 24 * time.Hour,
	Referrers:    ReferrersDeleteWithSubject,
	Scrub:        Scrub{Interval: 7 * 24 * time.Hour, MaxMBPerSecond: 50},

	LockCheckInterval: 15 * time.Second,
}

// Values of gc.referrers.
const (
	ReferrersDeleteWithSubject = "delete-with-subject"
	ReferrersKeep              = "keep"
)

// resolvePaths fills the paths that default to locations under DataDir.
// It runs after every source has been applied, so that --data-dir moves
// them too.
func (c *Config) resolvePaths() {
	if c.Storage.Filesystem.Root == "" {
		c.Storage.Filesystem.Root = filepath.Join(c.DataDir, "storage")
	}
	if c.Metadata.SQLite.Path == "" {
		c.Metadata.SQLite.Path = filepath.Join(c.DataDir, "metadata.db")
	}
	c.Audit.resolvePath(c.DataDir)
}

// Validate checks every value and returns one error per invalid key,
// joined, each naming the key.
func (c *Config) Validate() error {
	var errs []error
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}

	check("listen", validateAddress(c.Listen))
	check("s3.listen", validateAddress(c.S3.Listen))
	if c.S3.Region == "" {
		check("s3.region", errors.New("must not be empty"))
	}
	if c.S3.MultipartExpiry < minPeriod {
		check("s3.multipart_expiry", fmt.Errorf("must be at least %s, got %s", minPeriod, c.S3.MultipartExpiry))
	}
	if c.S3.BackgroundJoins < 0 {
		check("s3.background_joins", fmt.Errorf("must be 0 (off) or more, got %d", c.S3.BackgroundJoins))
	}
	if c.DataDir == "" {
		check("data_dir", errors.New("must not be empty"))
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		check("tls", errors.New("cert and key must be set together"))
	}
	if (c.Root.User == "") != (c.Root.Password == "") {
		check("root", errors.New("user and password must be set together"))
	}
	if c.Root.User != "" && len(c.Root.Password) < 8 {
		check("root.password", errors.New("must be at least 8 characters"))
	}
	check("storage.driver", oneOf(c.Storage.Driver, "filesystem", "s3", "memory"))
	check("storage.verify_reads", oneOf(c.Storage.VerifyReads, "checksums", "digest"))
	if c.Storage.Driver == "s3" {
		if c.Storage.S3.Bucket == "" {
			check("storage.s3.bucket", errors.New("must be set when storage.driver is s3"))
		}
		if (c.Storage.S3.AccessKey == "") != (c.Storage.S3.SecretKey == "") {
			check("storage.s3", errors.New("access_key and secret_key must be set together"))
		}
		if e := c.Storage.S3.RedirectExpiry; c.Storage.S3.Redirect && (e < time.Second || e > 7*24*time.Hour) {
			check("storage.s3.redirect_expiry", fmt.Errorf("must be from 1s to 168h, got %s", e))
		}
	}
	if c.Storage.S3.Redirect && c.Storage.Driver != "s3" {
		check("storage.s3.redirect", fmt.Errorf("needs storage.driver s3, got %s", c.Storage.Driver))
	}
	if c.Storage.Reliability.Enabled {
		errs = append(errs, c.Storage.Reliability.validate()...)
	}
	check("metadata.driver", oneOf(c.Metadata.Driver, "sqlite", "postgres"))
	if c.Metadata.Driver == "postgres" && c.Metadata.Postgres.URL == "" {
		check("metadata.postgres.url", errors.New("must be set when metadata.driver is postgres"))
	}
	if c.Registry.MaxManifestBytes < 1024 {
		check("registry.max_manifest_bytes", fmt.Errorf("must be at least 1024, got %d", c.Registry.MaxManifestBytes))
	}
	errs = append(errs, c.GC.validate()...)
	errs = append(errs, c.Webhooks.validate()...)
	errs = append(errs, c.Auth.validate()...)
	for _, origin := range c.CORS.AllowedOrigins {
		if origin != "*" && !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			check("cors.allowed_origins", fmt.Errorf("invalid origin %q: expected * or a scheme://host[:port] origin", origin))
		}
	}
	check("log.format", oneOf(c.Log.Format, "text", "json"))
	check("log.level", oneOf(c.Log.Level, "debug", "info", "warn", "error"))
	if c.Metrics.Enabled {
		errs = append(errs, c.Metrics.validate(c.Listen, c.S3)...)
	}
	errs = append(errs, c.Tracing.validate()...)
	errs = append(errs, c.Audit.validate()...)
	errs = append(errs, c.SupplyChain.Signing.validate()...)
	errs = append(errs, c.Limits.validate()...)
	if c.ShutdownTimeout <= 0 {
		check("shutdown_timeout", fmt.Errorf("must be positive, got %s", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

func validateAddress(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("invalid address %q: expected host:port", addr)
	}
	return nil
}

func oneOf(value string, allowed ...string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return fmt.Errorf("invalid value %q: expected one of %q", value, allowed)
}

// validate checks the storage.reliability keys.
func (r StorageReliability) validate() []error {
	var errs []error
	atLeastOne := func(key string, n int) {
		if n < 1 {
			errs = append(errs, fmt.Errorf("storage.reliability.%s: must be at least 1, got %d", key, n))
		}
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("storage.reliability.%s: must be positive, got %s", key, d))
		}
	}
	atLeastOne("max_attempts", r.MaxAttempts)
	positive("base_delay", r.BaseDelay)
	positive("max_delay", r.MaxDelay)
	if r.MaxDelay > 0 && r.MaxDelay < r.BaseDelay {
		errs = append(errs, fmt.Errorf("storage.reliability.max_delay: must be at least base_delay (%s), got %s", r.BaseDelay, r.MaxDelay))
	}
	positive("operation_timeout", r.OperationTimeout)
	atLeastOne("breaker_threshold", r.BreakerThreshold)
	positive("breaker_cooldown", r.BreakerCooldown)
	return errs
}

// minPeriod is the shortest interval, grace period and expiry of garbage
// collection and the scrub. Values this short only suit tests, which run
// collection every second to stress it; production uses minutes or hours.
const minPeriod = time.Second

// validate checks the gc keys.
func (g GC) validate() []error {
	var errs []error
	atLeastMinPeriod := func(key string, d time.Duration) {
		if d < minPeriod {
			errs = append(errs, fmt.Errorf("gc.%s: must be at least %s, got %s", key, minPeriod, d))
		}
	}
	atLeastMinPeriod("interval", g.Interval)
	atLeastMinPeriod("grace_period", g.GracePeriod)
	atLeastMinPeriod("upload_expiry", g.UploadExpiry)
	if d := g.Untagged.DeleteAfter; d < 0 || d > 0 && d < g.GracePeriod {
		errs = append(errs, fmt.Errorf("gc.untagged.delete_after: must be 0 (keep untagged manifests) or at least grace_period (%s), got %s", g.GracePeriod, d))
	}
	if err := oneOf(g.Referrers, ReferrersDeleteWithSubject, ReferrersKeep); err != nil {
		errs = append(errs, fmt.Errorf("gc.referrers: %w", err))
	}
	atLeastMinPeriod("scrub.interval", g.Scrub.Interval)
	if g.Scrub.MaxMBPerSecond < 0 {
		errs = append(errs, fmt.Errorf("gc.scrub.max_mb_per_second: must be 0 (no cap) or positive, got %d", g.Scrub.MaxMBPerSecond))
	}
	if g.LockCheckInterval < time.Second {
		errs = append(errs, fmt.Errorf("gc.lock_check_interval: must be at least 1s, got %s", g.LockCheckInterval))
	}
	return errs
}

// reservedPaths are served on the main listener; metrics.path must not
// shadow them.
var reservedPaths = []string{"/v2", "/api/v1", "/livez", "/readyz", "/startupz"}

// validate checks the metrics keys against the other listeners and the
// paths of the main listener.
func (m Metrics) validate(listen string, s3 S3) []error {
	var errs []error
	if !strings.HasPrefix(m.Path, "/") || m.Path == "/" {
		errs = append(errs, fmt.Errorf("metrics.path: invalid path %q: expected an absolute path such as /metrics", m.Path))
	}
	if m.Listen == "" {
		for _, reserved := range reservedPaths {
			if m.Path == reserved || strings.HasPrefix(m.Path, reserved+"/") {
				errs = append(errs, fmt.Errorf("metrics.path: %q is taken by %s on the main listener; choose another path or set metrics.listen", m.Path, reserved))
			}
		}
		return errs
	}
	if err := validateAddress(m.Listen); err != nil {
		errs = append(errs, fmt.Errorf("metrics.listen: %w", err))
	}
	if m.Listen == listen || s3.Enabled && m.Listen == s3.Listen {
		errs = append(errs, fmt.Errorf("metrics.listen: %s is already the address of another listener; choose a free address or leave it empty to serve on the main listener", m.Listen))
	}
	return errs
}
