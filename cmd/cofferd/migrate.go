package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"syscall"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/migrate"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/telemetry"
)

const migrateUsage = `usage: cofferd migrate --from FILE --to FILE [--workers N]

Copy everything the deployment of --from holds (buckets, repositories, blob
links, manifests, tags, referrers, objects and their blob content) into the
deployment of --to, verifying the digest of every blob while it streams.
Running it again after an interruption skips what the target already holds
and copies the rest. Open upload sessions and multipart uploads are not
copied. Stop writes to the source first.

Both configurations are read from their files only: COFFER_* environment
variables are ignored, since one set cannot describe two deployments.

Exit codes: 0 everything copied, 1 the migration failed (the message names
the record or blob), 2 invalid flags or configuration.

flags:
`

// runMigrate implements "cofferd migrate".
func runMigrate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cofferd migrate", flag.ContinueOnError)
	from := fs.String("from", "", "configuration file of the deployment to copy from (required)")
	to := fs.String("to", "", "configuration file of the deployment to copy into (required)")
	workers := fs.Int("workers", 8, "how many records and blobs to copy at once")
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = io.WriteString(fs.Output(), migrateUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsageError
	}
	fromCfg, toCfg, err := loadMigrateConfigs(fs, *from, *to, *workers)
	if err != nil {
		fmt.Fprintf(stderr, "cofferd migrate: %v\n", err)
		return exitUsageError
	}

	logger := telemetry.NewLogger(stderr, toCfg.Log.Format, toCfg.Log.Level)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("migration started", "from", *from, "to", *to)
	report, err := server.Migrate(ctx, fromCfg, toCfg, logger, migrate.Options{Workers: *workers})
	if report != nil {
		_, _ = io.WriteString(stdout, formatMigrateReport(report))
	}
	if err != nil {
		fmt.Fprintf(stderr, "cofferd migrate: %v\n", err)
		return exitFound
	}
	return exitOK
}

// loadMigrateConfigs checks the flags and loads both configurations.
func loadMigrateConfigs(fs *flag.FlagSet, from, to string, workers int) (config.Config, config.Config, error) {
	var none config.Config
	switch {
	case fs.NArg() > 0:
		return none, none, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case from == "" || to == "":
		return none, none, errors.New("both --from and --to must name a configuration file")
	case workers < 1:
		return none, none, fmt.Errorf("--workers must be at least 1, got %d", workers)
	}
	fromCfg, err := loadFile("--from", from)
	if err != nil {
		return none, none, err
	}
	toCfg, err := loadFile("--to", to)
	if err != nil {
		return none, none, err
	}
	if reflect.DeepEqual(fromCfg.Storage, toCfg.Storage) && reflect.DeepEqual(fromCfg.Metadata, toCfg.Metadata) {
		return none, none, fmt.Errorf("%s and %s name the same storage and metadata store; the target must be another deployment", from, to)
	}
	return fromCfg, toCfg, nil
}

// loadFile loads one configuration file without the environment.
func loadFile(flagName, path string) (config.Config, error) {
	cfg, _, err := config.Load(config.Flags{ConfigFile: path}, nil)
	if err != nil {
		return cfg, fmt.Errorf("%s %s: %w", flagName, path, err)
	}
	if cfg.Storage.Driver == "memory" {
		return cfg, fmt.Errorf("%s %s: storage.driver memory keeps blobs inside one server process, so migrate can neither read nor fill it", flagName, path)
	}
	return cfg, nil
}

// formatMigrateReport returns the summary of a run.
func formatMigrateReport(r *migrate.Report) string {
	return fmt.Sprintf("stored or already in the target: %d buckets, %d repositories, %d blob links, %d manifests, %d tags, %d objects\n"+
		"blob content: %d blobs (%d bytes) copied and verified, %d already in the target\n"+
		"not copied: %d open upload sessions, %d open multipart uploads\n",
		r.Buckets, r.Repositories, r.BlobLinks, r.Manifests, r.Tags, r.Objects,
		r.BlobsCopied, r.BytesCopied, r.BlobsPresent, r.UploadSessions, r.MultipartUploads)
}
