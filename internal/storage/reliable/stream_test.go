package reliable_test

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
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
