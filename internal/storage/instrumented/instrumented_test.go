package instrumented

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/storagetest"
)

func TestDriverContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver {
		return New(memory.New(), NewMetrics(prometheus.NewRegistry()))
	})
}

// newDriver returns an instrumented memory driver, its metrics and the
// registry that holds them.
func newDriver(t *testing.T) (*Driver, *Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	return New(memory.New(), m), m, reg
}

// count returns coffer_storage_operations_total of the memory driver for
// one operation and result.
func (m *Metrics) count(operation, result string) float64 {
	return testutil.ToFloat64(m.operations.WithLabelValues("memory", operation, result))
}

func TestDriverSeriesExistAtZero(t *testing.T) {
	_, _, reg := newDriver(t)

	families := map[string]int{
		"coffer_storage_operations_total":           24, // 8 operations, 3 results each
		"coffer_storage_operation_duration_seconds": 8,
		"coffer_storage_read_bytes_total":           1,
		"coffer_storage_written_bytes_total":        1,
	}
	for name, want := range families {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s: %d series, want %d", name, got, want)
		}
	}
}

func TestDriverCountsResults(t *testing.T) {
	d, m, _ := newDriver(t)
	ctx := t.Context()

	w, err := d.Writer(ctx, "blobs/a", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := io.WriteString(w, "hello world"); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if _, err := d.Stat(ctx, "blobs/a"); err != nil {
		t.Fatalf("Stat of a stored key: %v", err)
	}
	if _, err := d.Stat(ctx, "blobs/missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat of a missing key: error = %v, want ErrNotFound", err)
	}
	if _, err := d.Stat(ctx, "../outside"); !errors.Is(err, storage.ErrInvalidKey) {
		t.Fatalf("Stat of an invalid key: error = %v, want ErrInvalidKey", err)
	}

	cases := []struct {
		operation, result string
		want              float64
	}{
		{"writer", "ok", 1},
		{"commit", "ok", 1},
		{"stat", "ok", 1},
		{"stat", "not_found", 1},
		{"stat", "error", 1},
		{"reader", "ok", 0},
		{"cancel", "ok", 0},
	}
	for _, tc := range cases {
		if got := m.count(tc.operation, tc.result); got != tc.want {
			t.Errorf("operations_total{operation=%s,result=%s} = %v, want %v", tc.operation, tc.result, got, tc.want)
		}
	}
	if got := testutil.CollectAndCount(m.duration); got != 8 {
		t.Errorf("duration series = %d, want 8", got)
	}
}

func TestDriverCountsStreamedBytes(t *testing.T) {
	d, m, _ := newDriver(t)
	ctx := t.Context()
	content := strings.Repeat("0123456789", 1000)

	w, err := d.Writer(ctx, "blobs/big", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := io.Copy(w, strings.NewReader(content)); err != nil {
		t.Fatalf("write content: %v", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	r, err := d.Reader(ctx, "blobs/big", 4000)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	// Read only part of the stream: the counter follows what was read.
	if _, err := io.ReadFull(r, make([]byte, 1500)); err != nil {
		t.Fatalf("read 1500 bytes: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if got := testutil.ToFloat64(m.writtenBytes.WithLabelValues("memory")); got != 10000 {
		t.Errorf("written bytes = %v, want 10000", got)
	}
	if got := testutil.ToFloat64(m.readBytes.WithLabelValues("memory")); got != 1500 {
		t.Errorf("read bytes = %v, want 1500", got)
	}
	if got := m.count("reader", "ok"); got != 1 {
		t.Errorf("operations_total{operation=reader,result=ok} = %v, want 1", got)
	}
}

func TestDriverTimesCancelAndDelete(t *testing.T) {
	d, m, _ := newDriver(t)
	ctx := t.Context()

	w, err := d.Writer(ctx, "uploads/session", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := io.WriteString(w, "partial"); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Cancel(ctx); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := d.Delete(ctx, "uploads/session"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Delete after Cancel: error = %v, want ErrNotFound", err)
	}

	if got := m.count("cancel", "ok"); got != 1 {
		t.Errorf("operations_total{operation=cancel,result=ok} = %v, want 1", got)
	}
	if got := m.count("delete", "not_found"); got != 1 {
		t.Errorf("operations_total{operation=delete,result=not_found} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.writtenBytes.WithLabelValues("memory")); got != 7 {
		t.Errorf("written bytes = %v, want 7", got)
	}
}

func TestDriversShareMetrics(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	for _, d := range []*Driver{New(memory.New(), m), New(memory.New(), m)} {
		if _, err := d.Stat(t.Context(), "blobs/missing"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Stat: error = %v, want ErrNotFound", err)
		}
	}
	if got := m.count("stat", "not_found"); got != 2 {
		t.Errorf("operations_total{operation=stat,result=not_found} = %v, want 2", got)
	}
}

func TestDriverMetricsLint(t *testing.T) {
	d, _, reg := newDriver(t)
	if _, err := d.Stat(t.Context(), "blobs/missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat: error = %v, want ErrNotFound", err)
	}
	problems, err := testutil.CollectAndLint(reg)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}
