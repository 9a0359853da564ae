package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/instrumented"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// metricsOperation labels scrapes of the metrics endpoint on the main
// listener in coffer_http_requests_total.
const metricsOperation = "metrics"

// serverMetrics holds the Prometheus registry of one server and the
// metrics of each layer. A nil *serverMetrics (metrics.enabled: false)
// records nothing, and its methods are safe to call.
type serverMetrics struct {
	telemetry *telemetry.Metrics
	http      *middleware.HTTPMetrics
	storage   *instrumented.Metrics
	webhooks  *webhookMetrics
	backend   *backendMetrics
	audit     *auditMetrics
	abuse     *middleware.AbuseMetrics
	// scrubDamage counts the damaged blobs that background scrubs found,
	// by kind: "corrupt" or "missing".
	scrubDamage *prometheus.CounterVec
	// policyDecisions counts supply-chain policy decisions.
	policyDecisions *prometheus.CounterVec
}

// newServerMetrics returns a new registry with every metric family
// registered, or nil when metrics are disabled.
func newServerMetrics(cfg config.Metrics) *serverMetrics {
	if !cfg.Enabled {
		return nil
	}
	t := telemetry.NewMetrics()
	scrubDamage := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coffer_scrub_damaged_blobs_total",
		Help: "Blobs that a background integrity scrub found corrupt (content that does not match its digest, moved to quarantine) or missing.",
	}, []string{"kind"})
	t.Registry().MustRegister(scrubDamage)
	// Both series exist from the start, so an alert on an increase sees
	// the first damage.
	scrubDamage.WithLabelValues(scrubCorrupt)
	scrubDamage.WithLabelValues(scrubMissing)
	return &serverMetrics{
		telemetry:       t,
		http:            middleware.NewHTTPMetrics(t.Registry()),
		storage:         instrumented.NewMetrics(t.Registry()),
		webhooks:        newWebhookMetrics(t.Registry()),
		backend:         newBackendMetrics(t.Registry()),
		audit:           newAuditMetrics(t.Registry()),
		abuse:           middleware.NewAbuseMetrics(t.Registry()),
		scrubDamage:     scrubDamage,
		policyDecisions: newPolicyDecisionCounter(t.Registry()),
	}
}

// httpMetrics returns the HTTP metrics, nil when disabled, which turns
// middleware.Metrics into a pass-through.
func (m *serverMetrics) httpMetrics() *middleware.HTTPMetrics {
	if m == nil {
		return nil
	}
	return m.http
}

// instrument wraps a storage driver with the storage metrics.
func (m *serverMetrics) instrument(d storage.Driver) storage.Driver {
	if m == nil {
		return d
	}
	return instrumented.New(d, m.storage)
}

// addCorruptReads adds a blob store's count of corrupt reads to
// coffer_blob_corrupt_reads_total.
func (m *serverMetrics) addCorruptReads(count func() int64) {
	if m != nil {
		m.telemetry.AddCorruptReads(count)
	}
}

// Values of the kind label of coffer_scrub_damaged_blobs_total.
const (
	scrubCorrupt = "corrupt"
	scrubMissing = "missing"
)

// recordScrub counts the damage that a background scrub found.
func (m *serverMetrics) recordScrub(r *gc.ScrubReport) {
	if m == nil || r == nil {
		return
	}
	m.scrubDamage.WithLabelValues(scrubCorrupt).Add(float64(len(r.Corrupt)))
	m.scrubDamage.WithLabelValues(scrubMissing).Add(float64(len(r.Missing)))
}

// mainListenerEndpoint returns the handler of metrics.path on the main
// listener, or nil when the endpoint is off or on its own listener. It
// requires the root credentials unless metrics.public is set, because the
// main listener is often reachable by everyone who may pull images, and
// the metrics reveal traffic and failure patterns.
func (m *serverMetrics) mainListenerEndpoint(cfg config.Metrics, root middleware.Authenticator, logger *slog.Logger) http.Handler {
	if m == nil || cfg.Listen != "" {
		return nil
	}
	handler := m.telemetry.Handler(logger)
	if !cfg.Public {
		handler = middleware.RequireBasic(root, admin.Challenge, handler)
	}
	named := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.SetOperation(r.Context(), metricsOperation)
		handler.ServeHTTP(w, r)
	})
	return middleware.Metrics(m.http, "admin", named)
}

// metricsSubsystem serves the metrics endpoint without credentials on
// metrics.listen, an address meant to be reachable only by the monitoring
// system. It is added only when that address is set.
type metricsSubsystem struct {
	cfg     config.Config
	logger  *slog.Logger
	metrics *serverMetrics

	listener *listener
}

func (s *metricsSubsystem) Name() string    { return "metrics" }
func (s *metricsSubsystem) Validate() error { return nil }

func (s *metricsSubsystem) Start(ctx context.Context) error {
	endpoint := s.metrics.telemetry.Handler(s.logger)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != s.cfg.Metrics.Path {
			http.NotFound(w, r)
			return
		}
		endpoint.ServeHTTP(w, r)
	})
	l, err := serve(ctx, "metrics", s.cfg.Metrics.Listen, s.cfg.TLS, middleware.Recover(handler), s.logger)
	if err != nil {
		return err
	}
	s.listener = l
	return nil
}

func (s *metricsSubsystem) Stop(ctx context.Context) error { return s.listener.shutdown(ctx) }

func (s *metricsSubsystem) Health(ctx context.Context) error { return nil }
