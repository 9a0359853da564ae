package reliable_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
	"github.com/cofferhq/coffer/internal/storage/reliable"
)

// A Commit that fails because the backend refused or reset the connection
// must report storage.ErrUnavailable, so the client gets 503 and retries,
// not an internal error. Found by the outage e2e test: a push that was
// committing when the S3 backend went away got 500.
func TestCommitTransientFailureIsUnavailable(t *testing.T) {
	failures := map[string]error{
		"connection refused": &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
		"connection reset":   &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)},
		"net timeout":        &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}},
	}
	for name, failure := range failures {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, reliable.Options{BreakerThreshold: 100})
			h.backend.fail(opCommit, failure)

			w, err := h.driver.Writer(h.ctx, "k", 0)
			if err != nil {
				t.Fatalf("Writer: %v", err)
			}
			defer w.Close()
			if _, err := io.WriteString(w, "abc"); err != nil {
				t.Fatalf("Write: %v", err)
			}
			err = w.Commit(h.ctx)
			if !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("Commit = %v, want storage.ErrUnavailable", err)
			}
			if !errors.Is(err, failure) {
				t.Errorf("Commit = %v, want it to wrap the backend's error", err)
			}
		})
	}
}

// A Commit that fails for a reason other than a transient one returns the
// error unchanged.
func TestCommitOtherFailureIsNotUnavailable(t *testing.T) {
	h := newHarness(t, reliable.Options{BreakerThreshold: 100})
	failure := errors.New("access denied")
	h.backend.fail(opCommit, failure)

	w, err := h.driver.Writer(h.ctx, "k", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	defer w.Close()
	err = w.Commit(h.ctx)
	if !errors.Is(err, failure) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Commit = %v, want the backend's error and not storage.ErrUnavailable", err)
	}
}

// brokenStreamDriver is a memory driver whose readers fail with err on
// their first Read, as a stream whose connection the backend reset does.
type brokenStreamDriver struct {
	storage.Driver
	err error
}

func (d brokenStreamDriver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	return io.NopCloser(iotest.ErrReader(d.err)), nil
}

// A Read that fails because the connection broke reports
// storage.ErrUnavailable, and the end of the stream stays io.EOF.
func TestReadTransientFailureIsUnavailable(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	d := reliable.Wrap(brokenStreamDriver{Driver: memory.New(), err: reset}, reliable.Options{})
	r, err := d.Reader(t.Context(), "k", 0)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	defer r.Close()
	_, err = r.Read(make([]byte, 8))
	if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Read = %v, want storage.ErrUnavailable wrapping the reset", err)
	}

	d = reliable.Wrap(brokenStreamDriver{Driver: memory.New(), err: io.EOF}, reliable.Options{})
	r, err = d.Reader(t.Context(), "k", 0)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	defer r.Close()
	if _, err := r.Read(make([]byte, 8)); err != io.EOF {
		t.Errorf("Read at the end = %v, want io.EOF", err)
	}
}
