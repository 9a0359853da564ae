// Package instrumented wraps any storage.Driver and records Prometheus
// metrics for every call: a count by result, a latency histogram, and the
// bytes read and written, counted while they stream. The wrapped driver's
// behaviour and errors pass through unchanged.
package instrumented

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/storage"
)

// Operation label values, one per timed call.
const (
	opReader = "reader"
	opStat   = "stat"
	opWriter = "writer"
	opCommit = "commit"
	opCancel = "cancel"
	opMove   = "move"
	opDelete = "delete"
	opWalk   = "walk"
)

var operations = []string{opReader, opStat, opWriter, opCommit, opCancel, opMove, opDelete, opWalk}

// Result label values.
const (
	resultOK       = "ok"
	resultNotFound = "not_found"
	resultError    = "error"
)

// operationDurationBuckets reach from a cached stat (sub-millisecond) to
// the fsync of a large commit or a remote call, in seconds.
var operationDurationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics holds the storage metric families, shared by every Driver
// registered with the same registry.
type Metrics struct {
	operations   *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	readBytes    *prometheus.CounterVec
	writtenBytes *prometheus.CounterVec
}

// NewMetrics registers the storage metric families with reg. It panics if
// reg already holds them.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_storage_operations_total",
			Help: "Storage driver calls by driver, operation and result (ok, not_found or error).",
		}, []string{"driver", "operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_storage_operation_duration_seconds",
			Help:    "Duration of storage driver calls, in seconds; streaming reads and writes are not included.",
			Buckets: operationDurationBuckets,
		}, []string{"driver", "operation"}),
		readBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_storage_read_bytes_total",
			Help: "Bytes read from storage, counted as they stream.",
		}, []string{"driver"}),
		writtenBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_storage_written_bytes_total",
			Help: "Bytes written to storage, counted as they stream; bytes of cancelled writes included.",
		}, []string{"driver"}),
	}
	reg.MustRegister(m.operations, m.duration, m.readBytes, m.writtenBytes)
	return m
}

// operationMetrics are the series of one operation of one driver,
// resolved once so that a call costs no label lookup.
type operationMetrics struct {
	ok, notFound, failed prometheus.Counter
	duration             prometheus.Observer
}

// observe records one call that started at started and returned err.
func (o *operationMetrics) observe(started time.Time, err error) {
	o.duration.Observe(time.Since(started).Seconds())
	switch {
	case err == nil:
		o.ok.Inc()
	case errors.Is(err, storage.ErrNotFound):
		o.notFound.Inc()
	default:
		o.failed.Inc()
	}
}

// Driver is a storage.Driver that records metrics around another one.
type Driver struct {
	next         storage.Driver
	ops          map[string]*operationMetrics
	readBytes    prometheus.Counter
	writtenBytes prometheus.Counter
}

var _ storage.Driver = (*Driver)(nil)

// New wraps next. Every series of next's driver label exists from here
// on, at zero, so that rates over them are defined before the first call.
func New(next storage.Driver, m *Metrics) *Driver {
	name := next.Name()
	d := &Driver{
		next:         next,
		ops:          make(map[string]*operationMetrics, len(operations)),
		readBytes:    m.readBytes.WithLabelValues(name),
		writtenBytes: m.writtenBytes.WithLabelValues(name),
	}
	for _, op := range operations {
		d.ops[op] = &operationMetrics{
			ok:       m.operations.WithLabelValues(name, op, resultOK),
			notFound: m.operations.WithLabelValues(name, op, resultNotFound),
			failed:   m.operations.WithLabelValues(name, op, resultError),
			duration: m.duration.WithLabelValues(name, op),
		}
	}
	return d
}

// Name returns the wrapped driver's name.
func (d *Driver) Name() string { return d.next.Name() }

// Reader opens key and counts the bytes read from the returned stream.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	started := time.Now()
	rc, err := d.next.Reader(ctx, key, offset)
	d.ops[opReader].observe(started, err)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, bytes: d.readBytes}, nil
}

// Stat returns the wrapped driver's Stat.
func (d *Driver) Stat(ctx context.Context, key string) (storage.Info, error) {
	started := time.Now()
	info, err := d.next.Stat(ctx, key)
	d.ops[opStat].observe(started, err)
	return info, err
}

// Writer opens key for writing and counts the bytes written, and times the
// returned writer's Commit and Cancel.
func (d *Driver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	return d.openWriter(func() (storage.Writer, error) {
		return d.next.Writer(ctx, key, offset)
	})
}

// SizedWriter opens key for content of size bytes through the wrapped
// driver's SizedWriter, where it has one, counted as Writer is.
func (d *Driver) SizedWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	return d.openWriter(func() (storage.Writer, error) {
		return storage.NewWriter(ctx, d.next, key, size)
	})
}

// TempWriter opens the temporary key through the wrapped driver's
// TempWriter, where it has one, counted as Writer is.
func (d *Driver) TempWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	return d.openWriter(func() (storage.Writer, error) {
		return storage.NewTempWriter(ctx, d.next, key, size)
	})
}

func (d *Driver) openWriter(open func() (storage.Writer, error)) (storage.Writer, error) {
	started := time.Now()
	w, err := open()
	d.ops[opWriter].observe(started, err)
	if err != nil {
		return nil, err
	}
	return &countingWriter{Writer: w, driver: d}, nil
}

// Move returns the wrapped driver's Move.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	started := time.Now()
	err := d.next.Move(ctx, src, dst)
	d.ops[opMove].observe(started, err)
	return err
}

// Delete returns the wrapped driver's Delete.
func (d *Driver) Delete(ctx context.Context, key string) error {
	started := time.Now()
	err := d.next.Delete(ctx, key)
	d.ops[opDelete].observe(started, err)
	return err
}

// Walk returns the wrapped driver's Walk. Its duration includes the time
// fn takes, and an error fn returns counts as a walk error.
func (d *Driver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	started := time.Now()
	err := d.next.Walk(ctx, prefix, fn)
	d.ops[opWalk].observe(started, err)
	return err
}

// countingReader adds every byte read to coffer_storage_read_bytes_total.
type countingReader struct {
	io.ReadCloser
	bytes prometheus.Counter
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		r.bytes.Add(float64(n))
	}
	return n, err
}

// countingWriter adds every byte written to
// coffer_storage_written_bytes_total and times Commit and Cancel.
type countingWriter struct {
	storage.Writer
	driver *Driver
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	if n > 0 {
		w.driver.writtenBytes.Add(float64(n))
	}
	return n, err
}

func (w *countingWriter) Commit(ctx context.Context) error {
	started := time.Now()
	err := w.Writer.Commit(ctx)
	w.driver.ops[opCommit].observe(started, err)
	return err
}

func (w *countingWriter) Cancel(ctx context.Context) error {
	started := time.Now()
	err := w.Writer.Cancel(ctx)
	w.driver.ops[opCancel].observe(started, err)
	return err
}
