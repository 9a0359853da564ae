package stream

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrRequestBody marks a failure to read a request body: a malformed
// chunked transfer encoding, or a connection that closed before the body
// ended. The adapters respond 400 to it, because the request, not the
// server, is at fault.
var ErrRequestBody = errors.New("invalid request body")

// requestBody wraps every read error of a request body except io.EOF with
// ErrRequestBody, keeping the original error in the chain.
type requestBody struct {
	io.ReadCloser
}

func (b requestBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrRequestBody, err)
	}
	return n, err
}

// MarkBodyErrors passes requests to next with a body whose read errors wrap
// ErrRequestBody.
func MarkBodyErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = requestBody{r.Body}
		}
		next.ServeHTTP(w, r)
	})
}
