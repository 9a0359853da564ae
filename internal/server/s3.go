package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/s3"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/httpapi/sts"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/objects"
)

// s3Subsystem serves the S3 API on its own listener. The gc subsystem
// expires stale multipart uploads.
type s3Subsystem struct {
	cfg      config.Config
	logger   *slog.Logger
	storage  *storageSubsystem
	metadata *metadataSubsystem
	objects  *objectsSubsystem
	root     *authn.Root
	// identity resolves credentials and decides requests for every API.
	identity *identityServices
	metrics  *serverMetrics
	tracing  *tracingSubsystem
	audit    *auditSubsystem
	limits   *middleware.AbuseLimits

	store    *objects.Store
	listener *listener
}

func (s *s3Subsystem) Name() string    { return "s3" }
func (s *s3Subsystem) Validate() error { return nil }

func (s *s3Subsystem) Start(ctx context.Context) error {
	blobs := s.metadata.blobs(s.storage)
	s.metrics.addCorruptReads(blobs.CorruptReads)
	s.store = s.objects.store
	verifier := &sigv4.Verifier{Region: s.cfg.S3.Region}
	sessions := identity.NewSessions(s.identity.sealer)
	creds := s3Credentials{root: s.root, keys: s.identity.accessKeys(s.metadata.store), sessions: sessions}
	handler := s3.New(s.store, s3.SignatureAuthenticator{Verifier: verifier, Credentials: creds}, s3.Options{
		Region:     s.cfg.S3.Region,
		Domain:     s.cfg.S3.Domain,
		Authorizer: s.identity.s3Authorizer(s.store),
		STS:        sts.New(s.identity.resolver, sessions),
	})
	sc, err := newSupplyChain(s.cfg, s.metadata.store, blobs, s.store, s.metrics, s.logger)
	if err != nil {
		return err
	}
	handler.EnforcePolicy(sc.enforcer)

	cors := middleware.CORSOptions{AllowedOrigins: s.cfg.CORS.AllowedOrigins, MaxAge: s.cfg.CORS.MaxAge}
	limited := s.limits.Handler("s3", middleware.FailedSignature, s3.Reject, handler)
	metered := middleware.Metrics(s.metrics.httpMetrics(), "s3", middleware.CORS(cors, limited))
	top := s.tracing.handler(middleware.Logging(s.logger, s.audit.handler(s3Protocol, middleware.Recover(stream.MarkBodyErrors(metered)))))
	l, err := serve(ctx, "s3", s.cfg.S3.Listen, s.cfg.TLS, top, s.logger)
	if err != nil {
		return err
	}
	s.listener = l
	return nil
}

func (s *s3Subsystem) Stop(ctx context.Context) error {
	return s.listener.shutdown(ctx)
}

func (s *s3Subsystem) Health(ctx context.Context) error { return nil }

// s3Protocol audits every request on the S3 listener.
func s3Protocol(r *http.Request) (string, middleware.Rejection, bool) {
	return "s3", s3.Reject, true
}
