package middleware

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Rejection writes a protocol's error response for a request that the
// server turned away: 429 when an abuse limit was hit, 503 when strict
// auditing could not record it. retryAfter, when positive, becomes the
// Retry-After header in whole seconds, rounded up.
type Rejection func(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, message string)

// AuditLog stores audit events; *audit.Log implements it.
type AuditLog interface {
	Write(ctx context.Context, ev audit.Event) error
}

// AuditProtocol names the protocol of a request for its event and the
// Rejection of that protocol, or returns ok false for a request that gets no
// event, such as a health check.
type AuditProtocol func(r *http.Request) (name string, reject Rejection, ok bool)

// Limits of the fields of an event that come from the client.
const (
	maxAuditPath      = 1024
	maxAuditUserAgent = 256
)

// errAuditRejected is returned to a handler that writes after strict
// auditing replaced its response.
var errAuditRejected = errors.New("the request could not be audited")

// Audit puts an audit.Record in the request's context and writes exactly
// one event per request to log when the request is done. It must run
// inside Logging, which sets the request ID.
//
// With strict true, a request other than GET, HEAD and OPTIONS must be
// recorded before the client learns its outcome. Its event is written when
// the handler sends the status line, so it counts 0 response bytes. If the
// write fails, the client gets 503 and the handler's response is dropped.
// The change the request made is not undone: like a lost connection, the
// 503 tells the client that the outcome is unknown.
func Audit(log AuditLog, strict bool, protocol AuditProtocol, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, reject, ok := protocol(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		ctx, rec := audit.WithRecord(r.Context())
		a := &auditWriter{
			ResponseWriter: w,
			log:            log,
			request:        r.WithContext(ctx),
			record:         rec,
			reject:         reject,
			strict:         strict && mutating(r.Method),
			event: audit.Event{
				Time:      time.Now().UTC(),
				Protocol:  name,
				RequestID: w.Header().Get(RequestIDHeader),
				Method:    r.Method,
				Path:      truncate(r.URL.Path, maxAuditPath),
				Source:    sourceAddress(r),
				UserAgent: truncate(r.UserAgent(), maxAuditUserAgent),
			},
		}
		inner := a.request
		if r.Body != nil {
			inner.Body = &countingBody{ReadCloser: r.Body}
			a.body = inner.Body.(*countingBody)
		}
		completed := false
		defer func() { a.finish(completed) }()
		next.ServeHTTP(a, inner)
		completed = true
	})
}

// auditWriter captures the status and size of the response, and in
// strict mode writes the event before the status line goes out.
type auditWriter struct {
	http.ResponseWriter
	log     AuditLog
	request *http.Request
	record  *audit.Record
	reject  Rejection
	strict  bool
	body    *countingBody
	event   audit.Event

	status   int
	bytes    int64
	written  bool // the event was written
	rejected bool // strict auditing failed and replaced the response
}

func (a *auditWriter) WriteHeader(status int) {
	if a.rejected {
		return
	}
	if status < 200 {
		a.ResponseWriter.WriteHeader(status)
		return
	}
	if a.status == 0 {
		a.status = status
		if a.strict && !a.commit() {
			return
		}
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *auditWriter) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.WriteHeader(http.StatusOK)
	}
	if a.rejected {
		return 0, errAuditRejected
	}
	n, err := a.ResponseWriter.Write(p)
	a.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (a *auditWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// Flush passes flushes through, for long responses.
func (a *auditWriter) Flush() {
	if a.rejected {
		return
	}
	if f, ok := a.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// commit writes the event of a strict request before its status goes
// out. When that fails, it sends the 503 rejection instead and returns
// false.
func (a *auditWriter) commit() bool {
	if a.writeEvent() == nil {
		return true
	}
	a.rejected = true
	header := a.ResponseWriter.Header()
	for name := range header {
		if name != RequestIDHeader && name != "X-Amz-Request-Id" {
			header.Del(name)
		}
	}
	a.reject(a.ResponseWriter, a.request, http.StatusServiceUnavailable, 0,
		"the request could not be written to the audit log, so its outcome is unknown; retry later")
	return false
}

// finish writes the event once the handler returned or panicked.
func (a *auditWriter) finish(completed bool) {
	if a.written || a.rejected {
		return
	}
	if a.status == 0 {
		a.status = http.StatusInternalServerError
		if completed {
			a.status = http.StatusOK
		}
		if completed && a.strict {
			a.commit()
			return
		}
	}
	_ = a.writeEvent()
}

// writeEvent fills the event from the record and the response so far and
// writes it; a failure is logged.
func (a *auditWriter) writeEvent() error {
	a.written = true
	ev := a.event
	ev.Status = a.status
	ev.BytesOut = a.bytes
	if a.body != nil {
		ev.BytesIn = a.body.n.Load()
	}
	ev.Principal, ev.AuthMethod, ev.CredentialID = a.record.Identity()
	if ev.Principal == "" {
		ev.Principal = "anonymous"
	}
	ev.Decisions = a.record.Decisions()
	ev.ErrorCode = a.record.ErrorCode()
	ctx := a.request.Context()
	err := a.log.Write(ctx, ev)
	if err != nil {
		telemetry.Logger(ctx).ErrorContext(ctx, "audit event not written", "error", err, "strict", a.strict)
	}
	return err
}

// mutating reports whether a request with method may change state.
func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sourceAddress returns the IP address of the client that opened the
// connection. Headers such as X-Forwarded-For are ignored, because any
// client can set them.
func sourceAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// SetRetryAfter sets the Retry-After header to wait in whole seconds,
// rounded up, when wait is positive.
func SetRetryAfter(w http.ResponseWriter, wait time.Duration) {
	if wait <= 0 {
		return
	}
	seconds := (wait + time.Second - 1) / time.Second
	w.Header().Set("Retry-After", strconv.FormatInt(int64(seconds), 10))
}
