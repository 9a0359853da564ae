package telemetry

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the Prometheus registry of one server, with the Go runtime
// and process collectors and the metrics that belong to no single layer.
// The HTTP middleware and the storage decorator register their own
// families with Registry. Nothing uses the global default registry, so
// several servers in one test process never share counts.
type Metrics struct {
	registry     *prometheus.Registry
	corruptReads countSources
}

// NewMetrics returns a new registry with the Go runtime collector, the
// process collector and coffer_blob_corrupt_reads_total.
func NewMetrics() *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "coffer_blob_corrupt_reads_total",
			Help: "Blob reads whose content did not match its digest; each one aborted the response.",
		}, m.corruptReads.sum),
	)
	return m
}

// Registry returns the registry that every layer of the server registers
// its metrics with.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// AddCorruptReads adds a source to coffer_blob_corrupt_reads_total:
// count returns a monotonic count, such as blob.Store.CorruptReads. The
// metric reports the sum of every source at scrape time.
func (m *Metrics) AddCorruptReads(count func() int64) { m.corruptReads.add(count) }

// Handler serves the registry in the Prometheus exposition formats and
// counts its own scrapes in promhttp_metric_handler_requests_total. A
// collector that fails is logged and left out of the scrape, so one
// broken source never hides the others.
func (m *Metrics) Handler(logger *slog.Logger) http.Handler {
	handler := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.registry,
	})
	return promhttp.InstrumentMetricHandler(m.registry, handler)
}

// countSources sums monotonic counts read at scrape time.
type countSources struct {
	mu      sync.Mutex
	sources []func() int64
}

func (c *countSources) add(count func() int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sources = append(c.sources, count)
}

func (c *countSources) sum() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total int64
	for _, count := range c.sources {
		total += count()
	}
	return float64(total)
}
