package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/objects"
)

// expirySweepInterval is how often stale multipart uploads are looked for.
const expirySweepInterval = time.Hour

// s3Subsystem serves the S3 API on its own listener and expires stale
// multipart uploads in the background.
type s3Subsystem struct {
	cfg      config.Config
	logger   *slog.Logger
	storage  *storageSubsystem
	metadata *metadataSubsystem
	root     *authn.Root
	metrics  *serverMetrics
	tracing  *tracingSubsystem

	store    *objects.Store
	listener *listener
	stop     context.CancelFunc
	swept    chan struct{}
}

func (s *s3Subsystem) Name() string    { return "s3" }
func (s *s3Subsystem) Validate() error { return nil }

func (s *s3Subsystem) Start(ctx context.Context) error {
	blobs := s.storage.blobStore(s.metadata.store)
	s.metrics.addCorruptReads(blobs.CorruptReads)
	s.store = objects.New(s.metadata.store, blobs, s.cfg.S3.Region)
	verifier := &sigv4.Verifier{Credentials: rootCredentials{s.root}, Region: s.cfg.S3.Region}
	handler := s3.New(s.store, s3.SignatureAuthenticator{Verifier: verifier}, s3.Options{Region: s.cfg.S3.Region, Domain: s.cfg.S3.Domain})

	cors := middleware.CORSOptions{AllowedOrigins: s.cfg.CORS.AllowedOrigins, MaxAge: s.cfg.CORS.MaxAge}
	top := s.tracing.handler(middleware.Logging(s.logger, middleware.Recover(middleware.Metrics(s.metrics.httpMetrics(), "s3", middleware.CORS(cors, handler)))))
	l, err := serve(ctx, "s3", s.cfg.S3.Listen, s.cfg.TLS, top, s.logger)
	if err != nil {
		return err
	}
	s.listener = l

	sweepCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop, s.swept = cancel, make(chan struct{})
	go s.expireUploads(sweepCtx)
	return nil
}

// expireUploads aborts multipart uploads older than the configured expiry,
// at start and then every expirySweepInterval.
func (s *s3Subsystem) expireUploads(ctx context.Context) {
	defer close(s.swept)
	ticker := time.NewTicker(expirySweepInterval)
	defer ticker.Stop()
	for {
		runCtx, end := s.tracing.background(ctx, "s3.ExpireUploads")
		removed, err := s.store.ExpireUploads(runCtx, time.Now().Add(-s.cfg.S3.MultipartExpiry))
		end()
		if err != nil && ctx.Err() == nil {
			s.logger.Error("multipart upload expiry failed", "error", err)
		} else if removed > 0 {
			s.logger.Info("stale multipart uploads aborted", "count", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *s3Subsystem) Stop(ctx context.Context) error {
	s.stop()
	<-s.swept
	return s.listener.shutdown(ctx)
}

func (s *s3Subsystem) Health(ctx context.Context) error { return nil }

// rootCredentials lets the signature verifier look up the root access key.
type rootCredentials struct{ root *authn.Root }

func (c rootCredentials) Lookup(ctx context.Context, accessKey string) (string, error) {
	secret, err := c.root.Lookup(ctx, accessKey)
	if errors.Is(err, authn.ErrUnknownAccessKey) {
		return "", fmt.Errorf("%w: %w", sigv4.ErrUnknownAccessKey, err)
	}
	return secret, err
}
