package sigv4

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// cutReader returns its data, then io.ErrUnexpectedEOF, as net/http does
// for a body shorter than its Content-Length.
type cutReader struct{ r io.Reader }

func (c cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func bodyRequest(t *testing.T, payloadHash string, body io.Reader, contentLength int64) *http.Request {
	t.Helper()
	req, err := http.NewRequest("PUT", "http://127.0.0.1:9000/bucket/k", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = contentLength
	if payloadHash != "" {
		req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	}
	return req
}

func TestRawBodyCutShortIsIncompleteBody(t *testing.T) {
	for _, payloadHash := range []string{"", unsignedPayload, hexSHA256([]byte("abcdef"))} {
		req := bodyRequest(t, payloadHash, io.NopCloser(cutReader{strings.NewReader("abc")}), 6)
		body, err := newBody(req, nil)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(body)
		if string(data) != "abc" || !errors.Is(err, ErrIncompleteBody) {
			t.Errorf("payload %q: read %q, error %v; want abc and IncompleteBody", payloadHash, data, err)
		}
	}
}

func TestSHA256MismatchIsSticky(t *testing.T) {
	req := bodyRequest(t, hexSHA256([]byte("expected")), strings.NewReader("received"), 8)
	body, err := newBody(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(body); !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
		t.Fatalf("first read error = %v", err)
	}
	if n, err := body.Read(make([]byte, 4)); n != 0 || !errors.Is(err, ErrXAmzContentSHA256Mismatch) {
		t.Errorf("next Read = %d, %v; want the same mismatch", n, err)
	}
}

func TestTakePayloadSHA256HandsTheCheckOver(t *testing.T) {
	want := sha256.Sum256([]byte("expected"))
	body, err := newBody(bodyRequest(t, hexSHA256([]byte("expected")), strings.NewReader("received"), 8), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum, ok := body.TakePayloadSHA256()
	if !ok || !bytes.Equal(sum, want[:]) {
		t.Fatalf("TakePayloadSHA256 = %x, %t; want %x, true", sum, ok, want)
	}
	// The caller checks the hash now, so the body reads to its end.
	if data, err := io.ReadAll(body); string(data) != "received" || err != nil {
		t.Errorf("read %q, %v; want received and no error", data, err)
	}
	if _, ok := body.TakePayloadSHA256(); ok {
		t.Error("a second TakePayloadSHA256 succeeded")
	}
}

func TestTakePayloadSHA256OnlyBeforeReadingAHashedBody(t *testing.T) {
	read, err := newBody(bodyRequest(t, hexSHA256([]byte("abc")), strings.NewReader("abc"), 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := read.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if sum, ok := read.TakePayloadSHA256(); ok {
		t.Errorf("after a Read, TakePayloadSHA256 = %x, true; want false", sum)
	}

	for _, payloadHash := range []string{"", unsignedPayload} {
		body, err := newBody(bodyRequest(t, payloadHash, strings.NewReader("abc"), 3), nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum, ok := body.TakePayloadSHA256(); ok {
			t.Errorf("payload %q: TakePayloadSHA256 = %x, true; want false", payloadHash, sum)
		}
	}
	req := bodyRequest(t, streamingUnsignedTrailer, strings.NewReader("3\r\nabc\r\n0\r\n\r\n"), -1)
	req.Header.Set("X-Amz-Decoded-Content-Length", "3")
	chunked, err := newBody(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum, ok := chunked.TakePayloadSHA256(); ok {
		t.Errorf("aws-chunked body: TakePayloadSHA256 = %x, true; want false", sum)
	}
}

func TestDecodedLengthOfRawBodies(t *testing.T) {
	for _, length := range []int64{-1, 0, 42} {
		body, err := newBody(bodyRequest(t, unsignedPayload, strings.NewReader(""), length), nil)
		if err != nil {
			t.Fatal(err)
		}
		if body.DecodedLength() != length {
			t.Errorf("DecodedLength = %d, want %d", body.DecodedLength(), length)
		}
		if body.Trailers() != nil {
			t.Errorf("raw body has trailers %v", body.Trailers())
		}
	}
}

func TestNilRequestBody(t *testing.T) {
	req := bodyRequest(t, emptySHA256Hex, nil, 0)
	req.Body = nil
	body, err := newBody(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := io.ReadAll(body); len(data) != 0 || err != nil {
		t.Errorf("read %q, %v", data, err)
	}
	if err := body.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
