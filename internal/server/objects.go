package server

import (
	"context"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/objects"
)

// objectsSubsystem owns the one object store of the process. The S3
// listener, the native object API and the garbage collector share it, so
// an abort through any of them ends the upload's background join.
type objectsSubsystem struct {
	cfg      config.Config
	storage  *storageSubsystem
	metadata *metadataSubsystem
	metrics  *serverMetrics

	store *objects.Store
}

func (o *objectsSubsystem) Name() string    { return "objects" }
func (o *objectsSubsystem) Validate() error { return nil }

func (o *objectsSubsystem) Start(ctx context.Context) error {
	blobs := o.metadata.blobs(o.storage)
	o.metrics.addCorruptReads(blobs.CorruptReads)
	o.store = objects.New(o.metadata.store, blobs, o.cfg.S3.Region)
	if o.cfg.S3.Enabled && o.cfg.S3.BackgroundJoins > 0 {
		o.store.JoinInBackground(o.cfg.S3.BackgroundJoins)
	}
	return nil
}

// Stop ends the background joins. The listeners stop first, because they
// started later, so no request is still adding parts.
func (o *objectsSubsystem) Stop(ctx context.Context) error {
	o.store.StopBackgroundJoins()
	return nil
}

func (o *objectsSubsystem) Health(ctx context.Context) error { return nil }
