package server

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
)

func TestRecordCollectionCountsEachKind(t *testing.T) {
	m := newServerMetrics(config.Metrics{Enabled: true})
	m.recordCollection(&gc.Report{
		DeletedBlobs:     []gc.Item{{Name: "a", Bytes: 10}, {Name: "b", Bytes: 5}},
		ExpiredMultipart: []gc.Item{{Name: "u", Bytes: 7}},
	})
	m.recordCollection(nil) // a failed run has no report

	cases := []struct {
		kind         string
		items, bytes float64
	}{
		{"blob", 2, 15},
		{"orphan", 0, 0},
		{"upload", 0, 0},
		{"multipart", 1, 7},
	}
	for _, c := range cases {
		if got := testutil.ToFloat64(m.backend.gcItems.WithLabelValues(c.kind)); got != c.items {
			t.Errorf("coffer_gc_reclaimed_total{kind=%q} = %v, want %v", c.kind, got, c.items)
		}
		if got := testutil.ToFloat64(m.backend.gcBytes.WithLabelValues(c.kind)); got != c.bytes {
			t.Errorf("coffer_gc_reclaimed_bytes_total{kind=%q} = %v, want %v", c.kind, got, c.bytes)
		}
	}
}

func TestMetadataObserverLabelsResults(t *testing.T) {
	m := newServerMetrics(config.Metrics{Enabled: true})
	observe := m.metadataObserver()
	observe("GetManifest", time.Millisecond, nil)
	observe("GetManifest", time.Millisecond, fmt.Errorf("manifest x: %w", metadata.ErrNotFound))
	observe("GetManifest", time.Millisecond, errors.New("connection refused"))
	observe("PutManifest", time.Millisecond, &metadata.MissingReferenceError{})

	gathered, err := m.telemetry.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	families := make(map[string]*dto.MetricFamily, len(gathered))
	for _, f := range gathered {
		families[f.GetName()] = f
	}
	cases := []struct{ operation, result string }{
		{"GetManifest", "ok"}, {"GetManifest", "expected"}, {"GetManifest", "error"}, {"PutManifest", "expected"},
	}
	for _, c := range cases {
		labels := map[string]string{"operation": c.operation, "result": c.result}
		if got, ok := sampleValue(families, "coffer_metadata_operation_duration_seconds", labels); got != 1 {
			t.Errorf("observations of %v = %v (found %t), want 1", labels, got, ok)
		}
	}
	if (*serverMetrics)(nil).metadataObserver() != nil {
		t.Errorf("metadataObserver of disabled metrics is not nil")
	}
}
