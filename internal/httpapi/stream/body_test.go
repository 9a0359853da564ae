package stream

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestMarkBodyErrorsWrapsReadErrors(t *testing.T) {
	cause := errors.New("chunked line ends with bare LF")
	var readErr error
	handler := MarkBodyErrors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))

	req := httptest.NewRequest(http.MethodPut, "/", io.NopCloser(failingReader{cause}))
	handler.ServeHTTP(httptest.NewRecorder(), req)
	if !errors.Is(readErr, ErrRequestBody) {
		t.Fatalf("read error %v does not wrap ErrRequestBody", readErr)
	}
	if !errors.Is(readErr, cause) {
		t.Fatalf("read error %v lost its cause", readErr)
	}

	req = httptest.NewRequest(http.MethodPut, "/", strings.NewReader("complete body"))
	handler.ServeHTTP(httptest.NewRecorder(), req)
	if readErr != nil {
		t.Fatalf("reading a complete body returned %v", readErr)
	}
}
