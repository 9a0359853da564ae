package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/oci"
	"github.com/cofferhq/coffer/internal/ratelimit"
)

// clockHooks let tests replace the clock and the sleep of the abuse
// limits; the zero value uses real time.
type clockHooks struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration)
}

// auditSubsystem owns the audit log and its sinks. It starts before the
// listeners and stops after them, so every request's event has a place
// to go. With audit.enabled false it writes nothing and its handler
// passes requests through.
type auditSubsystem struct {
	cfg     config.Audit
	logger  *slog.Logger
	metrics *serverMetrics
	log     *audit.Log
}

func (a *auditSubsystem) Name() string    { return "audit" }
func (a *auditSubsystem) Validate() error { return nil }

func (a *auditSubsystem) Start(ctx context.Context) error {
	if !a.cfg.Enabled {
		return nil
	}
	var sinks []audit.Sink
	var start audit.Position
	if f := a.cfg.File; f.Enabled {
		sink, pos, err := audit.OpenFile(f.Path, f.MaxSizeMB*1000*1000, f.MaxFiles, nil)
		if err != nil {
			return err
		}
		sinks, start = append(sinks, sink), pos
	}
	if a.cfg.Stdout {
		sinks = append(sinks, audit.NewWriterSink("stdout", os.Stdout))
	}
	if h := a.cfg.HTTP; h.URL != "" {
		sinks = append(sinks, audit.NewHTTPSink(audit.HTTPSinkOptions{
			URL: h.URL, Timeout: h.Timeout, QueueSize: h.QueueSize, BatchSize: h.BatchSize, RetryDelay: h.RetryDelay,
			Logger: a.logger,
		}))
	}
	a.log = audit.NewLog(start, a.metrics.auditSinkFailure(), sinks...)
	a.logger.Info("audit log open", "file", a.cfg.File.Path, "file_enabled", a.cfg.File.Enabled, "next_seq", start.Seq+1, "strict", a.cfg.Strict)
	return nil
}

func (a *auditSubsystem) Stop(ctx context.Context) error {
	if a.log == nil {
		return nil
	}
	return a.log.Close(ctx)
}

func (a *auditSubsystem) Health(ctx context.Context) error { return nil }

// handler wraps next with the audit middleware, or returns next when
// auditing is off.
func (a *auditSubsystem) handler(protocol middleware.AuditProtocol, next http.Handler) http.Handler {
	if a == nil || !a.cfg.Enabled {
		return next
	}
	return middleware.Audit(countedLog{a}, a.cfg.Strict, protocol, next)
}

// countedLog counts every event in coffer_audit_events_total.
type countedLog struct{ a *auditSubsystem }

func (c countedLog) Write(ctx context.Context, ev audit.Event) error {
	if c.a.log == nil {
		return fmt.Errorf("write audit event: %w", audit.ErrClosed)
	}
	err := c.a.log.Write(ctx, ev)
	c.a.metrics.countAuditEvent(err == nil)
	return err
}

// auditProtocol names the protocol of a request on the main
// listener for its audit event. Health probes and metrics scrapes get
// none.
func (a *apiSubsystem) auditProtocol(r *http.Request) (string, middleware.Rejection, bool) {
	path := r.URL.Path
	switch {
	case a.untraced(path):
		return "", nil, false
	case path == "/v2" || strings.HasPrefix(path, "/v2/"):
		return "oci", oci.Reject, true
	case strings.HasPrefix(path, "/api/v1/"):
		return "admin", admin.Reject, true
	}
	return "other", admin.Reject, true
}

// newAbuseLimits builds the abuse limits of cfg, shared by both
// listeners so that failures on one count on the other.
func newAbuseLimits(cfg config.Limits, metrics *serverMetrics, hooks clockHooks) *middleware.AbuseLimits {
	limiter := func(limit int, window time.Duration) *ratelimit.Limiter {
		return ratelimit.New(limit, window, cfg.MaxTrackedClients, hooks.now)
	}
	return &middleware.AbuseLimits{
		FailedByAddress:   limiter(cfg.FailedLogins.PerAddress, cfg.FailedLogins.Window),
		FailedByPrincipal: limiter(cfg.FailedLogins.PerPrincipal, cfg.FailedLogins.Window),
		TokenByAddress:    limiter(cfg.TokenRequests.PerAddress, cfg.TokenRequests.Window),
		TokenByPrincipal:  limiter(cfg.TokenRequests.PerPrincipal, cfg.TokenRequests.Window),
		FailureDelay:      cfg.FailedLoginDelay,
		Sleep:             hooks.sleep,
		Metrics:           metrics.abuseMetrics(),
	}
}

// auditMetrics count audit events and failed sink writes.
type auditMetrics struct {
	events       *prometheus.CounterVec
	sinkFailures *prometheus.CounterVec
}

func newAuditMetrics(reg prometheus.Registerer) *auditMetrics {
	m := &auditMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_audit_events_total",
			Help: "Audit events by result: written (every sink took it) or failed (at least one sink did not).",
		}, []string{"result"}),
		sinkFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_audit_sink_failures_total",
			Help: "Audit events a sink failed to take, by sink: file, stdout or http (queue full).",
		}, []string{"sink"}),
	}
	reg.MustRegister(m.events, m.sinkFailures)
	m.events.WithLabelValues("written")
	m.events.WithLabelValues("failed")
	for _, sink := range []string{"file", "stdout", "http"} {
		m.sinkFailures.WithLabelValues(sink)
	}
	return m
}

func (m *serverMetrics) countAuditEvent(ok bool) {
	if m == nil {
		return
	}
	result := "failed"
	if ok {
		result = "written"
	}
	m.audit.events.WithLabelValues(result).Inc()
}

func (m *serverMetrics) auditSinkFailure() audit.SinkFailure {
	if m == nil {
		return nil
	}
	return func(sink string, err error) { m.audit.sinkFailures.WithLabelValues(sink).Inc() }
}

func (m *serverMetrics) abuseMetrics() *middleware.AbuseMetrics {
	if m == nil {
		return nil
	}
	return m.abuse
}
