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
		S3:              S3{Enabled: true, Listen: "127.0.0.1:9000", Region: "us-east-1", MultipartExpiry: 7 * 24 * time.Hour},
		Storage:         Storage{Driver: "filesystem"},
		Metadata:        Metadata{Driver: "sqlite"},
		Registry:        Registry{MaxManifestBytes: 4 << 20},
		CORS:            CORS{MaxAge: 10 * time.Minute},
		Log:             Log{Format: "text", Level: "info"},
		ShutdownTimeout: 30 * time.Second,
	}
}

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
	if c.S3.MultipartExpiry < time.Minute {
		check("s3.multipart_expiry", fmt.Errorf("must be at least 1m, got %s", c.S3.MultipartExpiry))
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
	check("storage.driver", oneOf(c.Storage.Driver, "filesystem", "memory"))
	check("metadata.driver", oneOf(c.Metadata.Driver, "sqlite", "postgres"))
	if c.Metadata.Driver == "postgres" && c.Metadata.Postgres.URL == "" {
		check("metadata.postgres.url", errors.New("must be set when metadata.driver is postgres"))
	}
	if c.Registry.MaxManifestBytes < 1024 {
		check("registry.max_manifest_bytes", fmt.Errorf("must be at least 1024, got %d", c.Registry.MaxManifestBytes))
	}
	for _, origin := range c.CORS.AllowedOrigins {
		if origin != "*" && !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			check("cors.allowed_origins", fmt.Errorf("invalid origin %q: expected * or a scheme://host[:port] origin", origin))
		}
	}
	check("log.format", oneOf(c.Log.Format, "text", "json"))
	check("log.level", oneOf(c.Log.Level, "debug", "info", "warn", "error"))
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
