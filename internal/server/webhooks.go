package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/events"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// webhooksSubsystem syncs the subscriptions of the configuration file into
// the metadata store and runs the delivery dispatcher in the background.
type webhooksSubsystem struct {
	cfg      config.Webhooks
	logger   *slog.Logger
	metadata *metadataSubsystem
	metrics  *serverMetrics

	dispatcher *events.Dispatcher
	stop       context.CancelFunc
	done       sync.WaitGroup
}

func (s *webhooksSubsystem) Name() string    { return "webhooks" }
func (s *webhooksSubsystem) Validate() error { return nil } // config.Validate covers the webhooks keys

func (s *webhooksSubsystem) Start(ctx context.Context) error {
	subs := make([]metadata.Subscription, 0, len(s.cfg.Subscriptions))
	for _, c := range s.cfg.Subscriptions {
		subs = append(subs, metadata.Subscription{
			ID: "config-" + c.Name, Name: c.Name, URL: c.URL, Secret: c.Secret, Types: c.Types,
			Repositories: c.Repositories, Buckets: c.Buckets, Origin: "config",
		})
	}
	if err := s.metadata.store.ReplaceConfigSubscriptions(ctx, subs); err != nil {
		return err
	}

	s.dispatcher = events.NewDispatcher(s.metadata.store, events.Options{
		PollInterval: s.cfg.PollInterval, Timeout: s.cfg.Timeout, MaxAttempts: s.cfg.MaxAttempts,
		BaseBackoff: s.cfg.BaseBackoff, MaxBackoff: s.cfg.MaxBackoff, Retention: s.cfg.Retention,
		Observer: s.metrics.webhookObserver(), Logger: s.logger,
	})
	loopCtx, cancel := context.WithCancel(telemetry.WithLogger(context.WithoutCancel(ctx), s.logger))
	s.stop = cancel
	s.done.Go(func() { s.dispatcher.Run(loopCtx) })
	return nil
}

// wake requests a dispatcher pass soon. Before Start it does nothing.
func (s *webhooksSubsystem) wake() {
	if s.dispatcher != nil {
		s.dispatcher.Wake()
	}
}

// Stop ends the dispatcher. A request in flight is abandoned, so its lease
// expires. A later pass, here or on another replica, then sends the event
// again with the same id.
func (s *webhooksSubsystem) Stop(ctx context.Context) error {
	if s.stop != nil {
		s.stop()
		s.done.Wait()
	}
	return nil
}

func (s *webhooksSubsystem) Health(ctx context.Context) error { return nil }

// webhookMetrics counts webhook delivery attempts and their latency.
type webhookMetrics struct {
	deliveries *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

// ObserveDelivery records one attempt.
func (m *webhookMetrics) ObserveDelivery(result string, latency time.Duration) {
	m.deliveries.WithLabelValues(result).Inc()
	m.latency.WithLabelValues(result).Observe(latency.Seconds())
}

// newWebhookMetrics registers the webhook families on reg.
func newWebhookMetrics(reg prometheus.Registerer) *webhookMetrics {
	m := &webhookMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_webhook_deliveries_total",
			Help: "Webhook delivery attempts by result: delivered, retry (failed, tried again later) or dead (failed for the last time).",
		}, []string{"result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_webhook_delivery_duration_seconds",
			Help:    "Duration of webhook delivery requests, by result.",
			Buckets: prometheus.ExponentialBuckets(0.005, 4, 8),
		}, []string{"result"}),
	}
	reg.MustRegister(m.deliveries, m.latency)
	return m
}

// webhookObserver returns the webhook metrics, or nil when metrics are
// disabled.
func (m *serverMetrics) webhookObserver() events.Observer {
	if m == nil {
		return nil
	}
	return m.webhooks
}
