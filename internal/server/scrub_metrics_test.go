package server

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/gc"
)

// A background scrub's findings add up in coffer_scrub_damaged_blobs_total,
// whose two series exist before the first scrub.
func TestRecordScrubCountsDamage(t *testing.T) {
	m := newServerMetrics(config.Metrics{Enabled: true, Path: "/metrics"})
	for _, kind := range []string{scrubCorrupt, scrubMissing} {
		if got := testutil.ToFloat64(m.scrubDamage.WithLabelValues(kind)); got != 0 {
			t.Errorf("%s before any scrub = %v, want 0", kind, got)
		}
	}

	m.recordScrub(&gc.ScrubReport{Corrupt: make([]gc.Corruption, 2), Missing: make([]gc.MissingBlob, 1)})
	m.recordScrub(&gc.ScrubReport{Corrupt: make([]gc.Corruption, 1)})
	m.recordScrub(nil)

	if got := testutil.ToFloat64(m.scrubDamage.WithLabelValues(scrubCorrupt)); got != 3 {
		t.Errorf("corrupt = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.scrubDamage.WithLabelValues(scrubMissing)); got != 1 {
		t.Errorf("missing = %v, want 1", got)
	}
}

// With metrics disabled, recording a scrub does nothing and does not panic.
func TestRecordScrubWithoutMetrics(t *testing.T) {
	var m *serverMetrics
	m.recordScrub(&gc.ScrubReport{Corrupt: make([]gc.Corruption, 1)})
}
