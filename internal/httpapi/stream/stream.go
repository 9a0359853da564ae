// Package stream copies verified content to HTTP responses for every
// protocol adapter.
package stream

import (
	"io"
	"net/http"
	"sync"

	"github.com/cofferhq/coffer/internal/telemetry"
)

// buffers are reused for streaming bodies.
var buffers = sync.Pool{New: func() any {
	b := make([]byte, 256<<10)
	return &b
}}

// Copy writes rc to the response after the headers went out. A read error
// (a digest mismatch, a storage failure) aborts the connection, so the
// client sees a truncated body rather than a complete response with wrong
// bytes. A client that left is not an error.
func Copy(w http.ResponseWriter, r *http.Request, rc io.Reader) {
	// The anonymous struct hides w's ReaderFrom: net/http's copies through
	// a 32 KiB buffer of its own unless the source is a file, and content
	// here never is one.
	dst := struct{ io.Writer }{w}
	var err error
	if wt, ok := rc.(io.WriterTo); ok {
		// A reader that verifies whole chunks writes them from its own buffer.
		_, err = wt.WriteTo(dst)
	} else {
		buf := buffers.Get().(*[]byte)
		defer buffers.Put(buf)
		_, err = io.CopyBuffer(dst, rc, *buf)
	}
	if err == nil || r.Context().Err() != nil {
		return
	}
	telemetry.Logger(r.Context()).ErrorContext(r.Context(), "response stream aborted", "path", r.URL.Path, "error", err)
	panic(http.ErrAbortHandler)
}
