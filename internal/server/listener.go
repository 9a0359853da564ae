package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/config"
)

// listener serves one handler on one address, with TLS when configured.
type listener struct {
	name    string
	logger  *slog.Logger
	server  *http.Server
	served  chan error
	address string
}

// serve starts serving handler on addr and returns at once.
func serve(ctx context.Context, name, addr string, tls config.TLS, handler http.Handler, logger *slog.Logger) (*listener, error) {
	var config net.ListenConfig
	ln, err := config.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	l := &listener{
		name:    name,
		logger:  logger,
		served:  make(chan error, 1),
		address: ln.Addr().String(),
		server: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		},
	}
	go func() {
		if tls.Enabled() {
			l.served <- l.server.ServeTLS(ln, tls.Cert, tls.Key)
		} else {
			l.served <- l.server.Serve(ln)
		}
	}()
	logger.Info("listening", "listener", name, "address", l.address, "tls", tls.Enabled())
	return l, nil
}

// shutdown lets in-flight requests finish within ctx's deadline, then
// closes what remains.
func (l *listener) shutdown(ctx context.Context) error {
	err := l.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		l.logger.Warn("shutdown timed out, closing remaining connections", "listener", l.name)
		_ = l.server.Close()
	}
	if served := <-l.served; served != nil && !errors.Is(served, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", l.name, served)
	}
	return err
}

// failed returns a channel that receives the listener's error if it stops
// serving on its own.
func (l *listener) failed() <-chan error { return l.served }
