package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/migrate"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Migrate copies the deployment that from names into the one that to
// names, as "cofferd migrate" does. Both are opened as the server opens
// them. The source should take no writes while it runs: a record that
// changes after it was copied is copied again only by a later run.
func Migrate(ctx context.Context, from, to config.Config, logger *slog.Logger, opts migrate.Options) (*migrate.Report, error) {
	srcDriver, src, err := openStores(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("open the source deployment: %w", err)
	}
	defer closeStore(ctx, src, logger)
	dstDriver, dst, err := openStores(ctx, to)
	if err != nil {
		return nil, fmt.Errorf("open the target deployment: %w", err)
	}
	defer closeStore(ctx, dst, logger)
	return migrate.New(src, srcDriver, dst, dstDriver, opts).Run(telemetry.WithLogger(ctx, logger))
}

// openStores opens the storage driver and the metadata store of cfg as the
// server does, without metrics.
func openStores(ctx context.Context, cfg config.Config) (storage.Driver, metadata.Store, error) {
	if cfg.Storage.Driver == "memory" {
		return nil, nil, errMemoryStorage
	}
	storageSys := &storageSubsystem{cfg: cfg.Storage}
	if err := storageSys.Start(ctx); err != nil {
		return nil, nil, err
	}
	if err := storageSys.Health(ctx); err != nil {
		return nil, nil, err
	}
	metadataSys := &metadataSubsystem{cfg: cfg.Metadata}
	if err := metadataSys.Start(ctx); err != nil {
		return nil, nil, err
	}
	return storageSys.driver, metadataSys.store, nil
}

// closeStore closes a metadata store and logs a failure.
func closeStore(ctx context.Context, store metadata.Store, logger *slog.Logger) {
	if err := store.Close(); err != nil {
		logger.WarnContext(ctx, "metadata store not closed cleanly", "error", err)
	}
}
