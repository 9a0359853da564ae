package telemetry

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsCorruptReadsSumsSources(t *testing.T) {
	m := NewMetrics()
	assertCorruptReads(t, m, 0)

	api, s3 := int64(2), int64(3)
	m.AddCorruptReads(func() int64 { return api })
	m.AddCorruptReads(func() int64 { return s3 })
	assertCorruptReads(t, m, 5)

	api = 4
	assertCorruptReads(t, m, 7)
}

// assertCorruptReads checks the scraped value of coffer_blob_corrupt_reads_total.
func assertCorruptReads(t *testing.T, m *Metrics, want int) {
	t.Helper()
	expected := fmt.Sprintf(`# HELP coffer_blob_corrupt_reads_total Blob reads whose content did not match its digest; each one aborted the response.
# TYPE coffer_blob_corrupt_reads_total counter
coffer_blob_corrupt_reads_total %d
`, want)
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(expected), "coffer_blob_corrupt_reads_total"); err != nil {
		t.Error(err)
	}
}

func TestMetricsRegistryHasRuntimeCollectors(t *testing.T) {
	m := NewMetrics()
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds"} {
		if got := testutil.CollectAndCount(m.Registry(), name); got != 1 {
			t.Errorf("%s: %d series, want 1", name, got)
		}
	}
}

func TestMetricsRegistryLint(t *testing.T) {
	m := NewMetrics()
	problems, err := testutil.CollectAndLint(m.Registry())
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

func TestMetricsHandlerServesText(t *testing.T) {
	m := NewMetrics()
	srv := httptest.NewServer(m.Handler(slog.New(slog.DiscardHandler)))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", got)
	}
	for _, family := range []string{"# TYPE coffer_blob_corrupt_reads_total counter", "# TYPE go_goroutines gauge", "# TYPE promhttp_metric_handler_requests_total counter"} {
		if !strings.Contains(string(body), family) {
			t.Errorf("scrape lacks %q", family)
		}
	}
}
