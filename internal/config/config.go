// Package config holds cofferd's configuration: one typed struct, its
// defaults and its validation. Values come from, in rising precedence, the
// defaults below, a YAML file, COFFER_* environment variables and
// command-line flags.
package config

import (
	"time"
)

// Config is the whole configuration of cofferd. The YAML key of each field
// is its yaml tag; the environment variable is COFFER_ followed by the YAML
// path in upper case joined by underscores (storage.driver is
// COFFER_STORAGE_DRIVER).
type Config struct {
	// Listen is the address of the OCI, management and health API.
	// Default 127.0.0.1:5000.
	Listen string `yaml:"listen"`
	// DataDir holds the filesystem blobs, the SQLite database and the
	// generated root credentials. Default ./coffer-data.
	DataDir string `yaml:"data_dir"`
	// TLS enables HTTPS on every listener when both files are set.
	TLS TLS `yaml:"tls"`
	// Root is the built-in administrator.
	Root Root `yaml:"root"`
	// Auth configures authentication by OpenID Connect access tokens.
	Auth Auth `yaml:"auth"`
	// S3 configures the S3-compatible API.
	S3 S3 `yaml:"s3"`
	// Storage selects and configures the blob storage driver.
	Storage Storage `yaml:"storage"`
	// Metadata selects and configures the metadata store.
	Metadata Metadata `yaml:"metadata"`
	// Registry tunes the OCI registry.
	Registry Registry `yaml:"registry"`
	// GC configures online garbage collection and the integrity scrub.
	GC GC `yaml:"gc"`
	// CORS configures cross-origin access to the S3 API and /api/v1.
	CORS CORS `yaml:"cors"`
	// Log configures structured logging.
	Log Log `yaml:"log"`
	// Metrics configures the Prometheus metrics endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Webhooks configures the event outbox and webhook delivery.
	Webhooks Webhooks `yaml:"webhooks"`
	// Tracing configures OpenTelemetry tracing.
	Tracing Tracing `yaml:"tracing"`
	// Audit configures the audit trail of every request.
	Audit Audit `yaml:"audit"`
	// Limits configures the abuse limits on logins and token requests.
	Limits Limits `yaml:"limits"`
	// SupplyChain configures signatures, SBOMs and attestations.
	SupplyChain SupplyChain `yaml:"supply_chain"`
	// ShutdownTimeout bounds how long in-flight requests may run after
	// SIGINT or SIGTERM. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// TLS names a PEM certificate chain and its private key.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.Cert != "" && t.Key != "" }

// Root holds the root credentials. When both are empty, cofferd generates
// them on first start, prints them once and keeps a bcrypt hash in
// DataDir/root-credentials.json.
type Root struct {
	User     string `yaml:"user"`
	Password string `yaml:"password"`
}

// S3 configures the S3-compatible API.
type S3 struct {
	// Enabled turns the S3 listener on. Default true.
	Enabled bool `yaml:"enabled"`
	// Listen is the S3 API address. Default 127.0.0.1:9000.
	Listen string `yaml:"listen"`
	// Region is the region the endpoint serves and that signatures must
	// name. Default us-east-1.
	Region string `yaml:"region"`
	// Domain enables virtual-hosted-style requests: "<bucket>.<domain>"
	// names a bucket. Empty (the default) serves path-style requests only.
	Domain string `yaml:"domain"`
	// MultipartExpiry is the age after which an unfinished multipart upload
	// is aborted and its parts deleted. Default 168h (7 days).
	MultipartExpiry time.Duration `yaml:"multipart_expiry"`
	// BackgroundJoins is how many multipart uploads at a time may have
	// their parts joined while the upload still runs, so that completing
	// them takes less time. 0 turns it off. Default 4.
	BackgroundJoins int `yaml:"background_joins"`
}

// Storage selects the blob storage driver.
type Storage struct {
	// Driver is "filesystem" (default), "s3" (any S3-compatible bucket) or
	// "memory" (nothing survives a restart).
	Driver     string            `yaml:"driver"`
	Filesystem FilesystemStorage `yaml:"filesystem"`
	S3         S3Storage         `yaml:"s3"`
	// VerifyReads is the check of each read of a whole blob larger than one
	// chunk (1 MiB): "checksums" (default) compares each chunk with its
	// CRC32C, stored beside the blob, and "digest" hashes the whole blob.
	VerifyReads string `yaml:"verify_reads"`
	// Reliability configures retries, timeouts and the circuit breaker
	// around the driver.
	Reliability StorageReliability `yaml:"reliability"`
}

// StorageReliability configures the retries, per-call timeouts and
// circuit breaker that wrap every storage driver.
type StorageReliability struct {
	// Enabled wraps the driver. Default true.
	Enabled bool `yaml:"enabled"`
	// MaxAttempts is the number of tries of one storage call, the first
	// included; 1 disables retries. Default 4.
	MaxAttempts int `yaml:"max_attempts"`
	// BaseDelay is the longest wait before the first retry; it doubles for
	// each later retry, and the actual wait is random up to it. Default 100ms.
	BaseDelay time.Duration `yaml:"base_delay"`
	// MaxDelay caps the longest wait between two tries. Default 2s.
	MaxDelay time.Duration `yaml:"max_delay"`
	// OperationTimeout bounds one try of a call other than the streaming
	// of bytes: a stat, move or delete, the opening of a read or write, and
	// in a listing the wait for each next key. Default 30s.
	OperationTimeout time.Duration `yaml:"operation_timeout"`
	// BreakerThreshold is the number of consecutive failed tries after
	// which the circuit breaker opens and storage calls fail at once.
	// Default 5.
	BreakerThreshold int `yaml:"breaker_threshold"`
	// BreakerCooldown is how long the open breaker fails calls before it
	// lets one through to test the backend. Default 10s.
	BreakerCooldown time.Duration `yaml:"breaker_cooldown"`
}

// S3Storage configures the S3 storage driver.
type S3Storage struct {
	// Endpoint is the store's URL, such as http://127.0.0.1:7070; empty
	// uses the AWS endpoint of Region.
	Endpoint string `yaml:"endpoint"`
	// Region of the bucket. Default us-east-1.
	Region string `yaml:"region"`
	// Bucket holds the blobs; it must exist. Required with the s3 driver.
	Bucket string `yaml:"bucket"`
	// Prefix is prepended to every object name, so several deployments can
	// share a bucket.
	Prefix string `yaml:"prefix"`
	// PathStyle addresses the bucket in the path instead of the host name,
	// as most S3-compatible stores other than AWS need.
	PathStyle bool `yaml:"path_style"`
	// AccessKey and SecretKey are static credentials; both empty uses the
	// AWS SDK's default chain (environment, shared files, instance roles).
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	// CACert is a PEM file of extra certificate authorities for the endpoint.
	CACert string `yaml:"ca_cert"`
	// Redirect answers GETs of whole blobs (OCI) and of whole objects (S3
	// and native API) with 307 to a presigned URL of the store, so the bytes
	// flow from the store to the client without passing through cofferd.
	// Coffer then cannot verify those bytes; see docs/storage.md. Default false.
	Redirect bool `yaml:"redirect"`
	// RedirectExpiry is how long a presigned URL stays valid. A download
	// must start within it. Default 5m, at most 168h (the SigV4 limit).
	RedirectExpiry time.Duration `yaml:"redirect_expiry"`
}

// FilesystemStorage configures the filesystem driver.
type FilesystemStorage struct {
	// Root is the directory of blobs and uploads. Default DataDir/storage.
	Root string `yaml:"root"`
	// DirectIO lets large writes and reads bypass the page cache with
	// O_DIRECT on Linux. Default true.
	DirectIO bool `yaml:"direct_io"`
}

// Metadata selects the metadata store.
type Metadata struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver   string           `yaml:"driver"`
	SQLite   SQLiteMetadata   `yaml:"sqlite"`
	Postgres PostgresMetadata `yaml:"postgres"`
}

// PostgresMetadata configures the PostgreSQL store.
type PostgresMetadata struct {
	// URL is a PostgreSQL connection URL, such as
	// postgres://coffer@db:5432/coffer?sslmode=verify-full. Pool settings
	// such as pool_max_conns go into its query. Required with the postgres driver.
	URL string `yaml:"url"`
}

// SQLiteMetadata configures the embedded SQLite store.
type SQLiteMetadata struct {
	// Path is the database file. Default DataDir/metadata.db.
	Path string `yaml:"path"`
}

// Registry tunes the OCI registry.
type Registry struct {
	// MaxManifestBytes is the largest manifest accepted, in bytes.
	// Default 4194304 (4 MiB), the limit the OCI distribution spec
	// recommends registries accept at least.
	MaxManifestBytes int64 `yaml:"max_manifest_bytes"`
}

// GC configures garbage collection, which runs while the server serves
// (and from "cofferd gc"), and the integrity scrub.
type GC struct {
	// Enabled runs garbage collection in the background, at start and then
	// every Interval. Default true.
	Enabled bool `yaml:"enabled"`
	// Interval is the time between two background runs. Default 1h.
	Interval time.Duration `yaml:"interval"`
	// GracePeriod is how long content stays after nothing references it
	// before it is reclaimed, so that a push in progress, which uploads
	// blobs before the manifest that references them, is never broken.
	// Storage keys that no metadata records must be this old, too.
	// Default 1h.
	GracePeriod time.Duration `yaml:"grace_period"`
	// UploadExpiry is how long an upload session may go without a new
	// chunk before it is cancelled and its bytes deleted. Default 24h.
	UploadExpiry time.Duration `yaml:"upload_expiry"`
	// Untagged is the policy for manifests that no tag and no index
	// references.
	Untagged GCUntagged `yaml:"untagged"`
	// Referrers is the policy for referrers (signatures, SBOMs,
	// attestations) whose subject is gone: "delete-with-subject" (default)
	// deletes them once they are older than GracePeriod, "keep" keeps them.
	Referrers string `yaml:"referrers"`
	// Scrub configures the integrity scrub.
	Scrub Scrub `yaml:"scrub"`
	// LockCheckInterval is how often a replica checks the cluster-wide
	// lock of each background job (garbage collection, the scrub, upload
	// expiry): one that does not hold it tries to take it, so a job moves
	// to a surviving replica within this time when its replica dies; one
	// that holds it checks it still does. Default 15s, at least 1s.
	LockCheckInterval time.Duration `yaml:"lock_check_interval"`
}

// GCUntagged is the policy for untagged manifests.
type GCUntagged struct {
	// DeleteAfter, when positive, deletes manifests older than it that no
	// tag and no index references and that are not referrers of a stored
	// subject. Zero (the default) keeps them.
	DeleteAfter time.Duration `yaml:"delete_after"`
}

// Scrub configures the integrity scrub, which re-hashes every stored blob
// and moves content that does not match its digest to quarantine.
type Scrub struct {
	// Enabled runs a scrub in the background, at start and then every
	// Interval. Default false. "cofferd scrub" runs one on demand.
	Enabled bool `yaml:"enabled"`
	// Interval is the time between two background scrubs. Default 168h.
	Interval time.Duration `yaml:"interval"`
	// MaxMBPerSecond caps the read rate of a scrub, in megabytes (10^6
	// bytes) per second, or 0 for no cap. Default 50.
	MaxMBPerSecond int64 `yaml:"max_mb_per_second"`
}

// Log configures log/slog output on stderr.
type Log struct {
	// Format is "text" (default) or "json".
	Format string `yaml:"format"`
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `yaml:"level"`
}

// CORS configures cross-origin requests from browsers.
type CORS struct {
	// AllowedOrigins lists the origins browsers may call from, such as
	// "https://ci.example.com"; "*" allows any. Empty (the default)
	// disables CORS. As an environment variable: a comma-separated list.
	AllowedOrigins []string `yaml:"allowed_origins"`
	// MaxAge is how long browsers may cache a preflight response. Default 10m.
	MaxAge time.Duration `yaml:"max_age"`
}

// Metrics configures the Prometheus metrics endpoint.
type Metrics struct {
	// Enabled records metrics and serves them. Default true.
	Enabled bool `yaml:"enabled"`
	// Path is the URL path of the endpoint. Default /metrics.
	Path string `yaml:"path"`
	// Listen is a separate address that serves only the endpoint, without
	// credentials. Empty (the default) serves it on the main listener.
	Listen string `yaml:"listen"`
	// Public serves the endpoint on the main listener without credentials;
	// by default it requires the root credentials there. Default false.
	Public bool `yaml:"public"`
}

// Tracing configures OpenTelemetry traces sent over OTLP. Each empty field
// falls back to the standard OTEL_* environment variable named beside it,
// and then to the OpenTelemetry default.
type Tracing struct {
	// Enabled records spans and exports them. Default false, which installs
	// no tracer, exporter or span-recording wrapper at all.
	Enabled bool `yaml:"enabled"`
	// Endpoint is the base URL of the OTLP receiver, such as
	// http://collector:4318 for http/protobuf (cofferd appends /v1/traces)
	// or http://collector:4317 for grpc. An http URL sends without TLS.
	// Fallback: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then
	// OTEL_EXPORTER_OTLP_ENDPOINT, then localhost on the protocol's port.
	Endpoint string `yaml:"endpoint"`
	// Protocol is "http/protobuf" or "grpc". Fallback:
	// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL,
	// then http/protobuf.
	Protocol string `yaml:"protocol"`
	// Sampler is one of the OTEL_TRACES_SAMPLER names: always_on,
	// always_off, traceidratio, parentbased_always_on,
	// parentbased_always_off or parentbased_traceidratio. Fallback:
	// OTEL_TRACES_SAMPLER, then parentbased_always_on.
	Sampler string `yaml:"sampler"`
	// SamplerArg is the sampling ratio, from 0 to 1, of the traceidratio
	// samplers. Fallback: OTEL_TRACES_SAMPLER_ARG, then 1.
	SamplerArg string `yaml:"sampler_arg"`
	// ServiceName is the service.name of every span. Fallback:
	// OTEL_SERVICE_NAME, then "cofferd".
	ServiceName string `yaml:"service_name"`
}
