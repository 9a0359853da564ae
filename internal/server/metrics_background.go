package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata/traced"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

// backendMetrics are the metrics of the metadata store, the storage
// reliability layer and garbage collection.
type backendMetrics struct {
	registry         *prometheus.Registry
	metadataDuration *prometheus.HistogramVec
	storageRetries   *prometheus.CounterVec
	gcItems          *prometheus.CounterVec
	gcBytes          *prometheus.CounterVec
}

// Values of the kind label of the garbage collection counters.
var gcKinds = []string{"blob", "orphan", "upload", "multipart"}

func newBackendMetrics(registry *prometheus.Registry) *backendMetrics {
	m := &backendMetrics{
		registry: registry,
		metadataDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_metadata_operation_duration_seconds",
			Help:    "Time taken by metadata store calls, by method and result (ok, expected for results such as not found, or error).",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}, []string{"operation", "result"}),
		storageRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_storage_retries_total",
			Help: "Storage calls tried again after a transient failure, by operation.",
		}, []string{"operation"}),
		gcItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_gc_reclaimed_total",
			Help: "What background garbage collection removed from storage: unreferenced blobs, orphan keys, expired upload sessions and expired multipart uploads.",
		}, []string{"kind"}),
		gcBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_gc_reclaimed_bytes_total",
			Help: "Bytes of storage that background garbage collection freed, by kind of item removed.",
		}, []string{"kind"}),
	}
	registry.MustRegister(m.metadataDuration, m.storageRetries, m.gcItems, m.gcBytes)
	for _, operation := range reliable.RetriedOperations {
		m.storageRetries.WithLabelValues(operation)
	}
	for _, kind := range gcKinds {
		m.gcItems.WithLabelValues(kind)
		m.gcBytes.WithLabelValues(kind)
	}
	return m
}

// metadataObserver returns the observer that times metadata store calls,
// or nil when metrics are disabled.
func (m *serverMetrics) metadataObserver() traced.Observer {
	if m == nil {
		return nil
	}
	histogram := m.backend.metadataDuration
	return func(operation string, elapsed time.Duration, err error) {
		result := "ok"
		switch {
		case err == nil:
		case traced.IsExpected(err):
			result = "expected"
		default:
			result = "error"
		}
		histogram.WithLabelValues(operation, result).Observe(elapsed.Seconds())
	}
}

// storageRetryCounter returns the function that counts storage retries,
// or nil when metrics are disabled.
func (m *serverMetrics) storageRetryCounter() func(operation string) {
	if m == nil {
		return nil
	}
	return func(operation string) { m.backend.storageRetries.WithLabelValues(operation).Inc() }
}

// addBreakerState exports the state of the storage circuit breaker as
// coffer_storage_circuit_breaker_state.
func (m *serverMetrics) addBreakerState(d *reliable.Driver) {
	if m == nil || d == nil {
		return
	}
	m.backend.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_storage_circuit_breaker_state",
		Help: "State of the storage circuit breaker: 0 closed (calls pass), 1 half-open (one probe passes), 2 open (calls fail fast with 503).",
	}, func() float64 { return float64(d.BreakerState()) }))
}

// recordCollection counts what one background garbage collection run
// removed.
func (m *serverMetrics) recordCollection(r *gc.Report) {
	if m == nil || r == nil {
		return
	}
	for i, items := range [][]gc.Item{r.DeletedBlobs, r.OrphanKeys, r.ExpiredUploads, r.ExpiredMultipart} {
		var bytes int64
		for _, item := range items {
			bytes += item.Bytes
		}
		m.backend.gcItems.WithLabelValues(gcKinds[i]).Add(float64(len(items)))
		m.backend.gcBytes.WithLabelValues(gcKinds[i]).Add(float64(bytes))
	}
}
