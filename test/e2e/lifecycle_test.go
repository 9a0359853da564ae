package e2e

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConfigErrorsNameTheKey starts cofferd with invalid configurations
// and checks that it exits with status 2 and a message naming the key.
func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, yaml, env, want string
	}{
		{"unknown key", "listen: 127.0.0.1:0\nstorage:\n  drivr: filesystem\n", "", "drivr"},
		{"invalid value", "storage:\n  driver: tape\n", "", "storage.driver"},
		{"wrong type", "registry:\n  max_manifest_bytes: lots\n", "", "registry.max_manifest_bytes"},
		{"invalid environment value", "", "COFFER_SHUTDOWN_TIMEOUT=soon", "COFFER_SHUTDOWN_TIMEOUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--data-dir", dir}
			if tc.yaml != "" {
				path := filepath.Join(dir, "coffer.yaml")
				if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", path)
			}
			cmd := exec.Command(cofferdBinary, args...)
			cmd.Env = environWithout("COFFER_")
			if tc.env != "" {
				cmd.Env = append(cmd.Env, tc.env)
			}
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
				t.Fatalf("cofferd exited with %v, want status 2; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output does not name %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestShutdownFinishesInFlightRequests sends SIGTERM while a chunk upload
// is half sent, then sends the rest: the request must complete with 202
// and the server must exit with status 0, keeping the chunk.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	dataDir := t.TempDir()
	srv := startCofferAt(t, dataDir, "")
	client := newOCIClient(srv.addr)
	location := client.startUpload(t, "e2e/shutdown")

	// The body pauses after 32 MiB, more than loopback socket buffers hold
	// (a few MiB), so by then the server must be reading the request: it is
	// in flight, not merely queued on an idle connection.
	const size = 64 << 20
	stalled := make(chan struct{})
	release := make(chan struct{})
	body := &pausingReader{r: patternSlice(9, 0, size), pauseAfter: size / 2, paused: func() { close(stalled) }, release: release}
	result := make(chan error, 1)
	go func() {
		_, err := client.patch(t, location, 0, body, size)
		result <- err
	}()
	<-stalled

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("send SIGTERM: %v", err)
	}
	waitRefused(t, srv.addr)
	close(release)

	if err := <-result; err != nil {
		t.Fatalf("in-flight PATCH during shutdown: %v", err)
	}
	<-srv.exited
	if srv.waitErr != nil {
		t.Fatalf("cofferd exited with %v after SIGTERM, want status 0", srv.waitErr)
	}
	srv.killed = true // already stopped; skip the cleanup's SIGTERM

	restarted := startCofferAt(t, dataDir, srv.addr)
	if got := newOCIClient(restarted.addr).uploadOffset(t, location); got != size {
		t.Errorf("offset after restart = %d, want %d", got, size)
	}
}

// pausingReader passes pauseAfter bytes, reports that it paused, waits
// until release is closed, then passes the rest.
type pausingReader struct {
	r          io.Reader
	pauseAfter int64
	read       int64
	paused     func()
	release    chan struct{}
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.read == p.pauseAfter {
		p.paused()
		<-p.release
		p.pauseAfter = -1
	}
	if p.pauseAfter > 0 && int64(len(b)) > p.pauseAfter-p.read {
		b = b[:p.pauseAfter-p.read]
	}
	n, err := p.r.Read(b)
	p.read += int64(n)
	return n, err
}

// waitRefused waits until addr refuses new connections: the server has
// closed its listener and is draining.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections after SIGTERM", addr)
}
