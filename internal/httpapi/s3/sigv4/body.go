package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer/internal/checksum"
)

// Values of x-amz-content-sha256 besides a hex SHA-256 and UNSIGNED-PAYLOAD.
const (
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingECDSAPrefix     = "STREAMING-AWS4-ECDSA-P256-SHA256-"
)

// payloadForm is the framing of a request body and the check that applies
// to it, selected by x-amz-content-sha256.
type payloadForm int

const (
	payloadRaw                      payloadForm = iota // no x-amz-content-sha256, or UNSIGNED-PAYLOAD
	payloadSHA256                                      // raw body whose SHA-256 must match the header
	payloadStreamingUnsignedTrailer                    // aws-chunked, no signatures, optional trailer
	payloadStreamingSigned                             // aws-chunked with chunk signatures
	payloadStreamingSignedTrailer                      // aws-chunked with chunk and trailer signatures
)

// parsePayloadForm classifies an x-amz-content-sha256 value.
func parsePayloadForm(value string) (payloadForm, error) {
	switch value {
	case "", unsignedPayload:
		return payloadRaw, nil
	case streamingUnsignedTrailer:
		return payloadStreamingUnsignedTrailer, nil
	case streamingSigned:
		return payloadStreamingSigned, nil
	case streamingSignedTrailer:
		return payloadStreamingSignedTrailer, nil
	}
	if strings.HasPrefix(value, streamingECDSAPrefix) {
		return 0, ErrNotImplemented.withMessage("Signature Version 4A payloads (%s) are not supported", value)
	}
	if len(value) == sha256.Size*2 {
		if _, err := hex.DecodeString(value); err == nil {
			return payloadSHA256, nil
		}
	}
	return 0, ErrInvalidArgument.withMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value, not %q", value)
}

// Body is the request payload as the caller must read it. It verifies the
// payload while it streams, with constant memory, and returns an *Error
// from Read when the payload does not match. Read returns io.EOF only after
// every check has passed.
type Body struct {
	src           io.ReadCloser
	reader        io.Reader
	chunked       *chunkedReader
	decodedLength int64
}

// Read reads decoded payload bytes.
func (b *Body) Read(p []byte) (int, error) { return b.reader.Read(p) }

// Close closes the request body.
func (b *Body) Close() error { return b.src.Close() }

// TakePayloadSHA256 returns the SHA-256 that x-amz-content-sha256 declares
// for a raw body, and turns off the check that Read makes of it when the
// body ends. The caller takes the check over: before it keeps any byte, it
// must compare the SHA-256 of every byte it read with sum and reject the
// request with ErrXAmzContentSHA256Mismatch when they differ. A caller
// that hashes the body with SHA-256 anyway thus hashes it once. It returns
// false for every other payload form, and once Read has been called.
func (b *Body) TakePayloadSHA256() (sum []byte, ok bool) {
	s, ok := b.reader.(*sha256Reader)
	if !ok || s.started {
		return nil, false
	}
	b.reader = s.src
	return s.want, true
}

// TakeTrailerChecksum returns the name of the checksum trailer that
// x-amz-trailer declares, and turns off Read's comparison of it with the
// decoded bytes. Read still requires the trailer and checks that it decodes.
// Before it keeps any byte, the caller must compare the checksum of every
// byte it read with Trailers().Get(name) and reject a mismatch with
// BadDigest. It returns false without a checksum trailer and once Read has
// been called.
func (b *Body) TakeTrailerChecksum() (name string, ok bool) {
	c := b.chunked
	if c == nil || c.checksum == nil || c.started {
		return "", false
	}
	c.checksum = nil
	return c.algorithm.HeaderName(), true
}

// DecodedLength returns the length of the decoded payload in bytes:
// x-amz-decoded-content-length for an aws-chunked body, otherwise the
// request's Content-Length, or -1 when unknown.
func (b *Body) DecodedLength() int64 { return b.decodedLength }

// Trailers returns the trailing headers of an aws-chunked body, such as
// X-Amz-Checksum-Crc32, once Read has returned io.EOF. Before that, and for
// other bodies, it returns nil. A checksum trailer named in x-amz-trailer has
// been compared with the decoded bytes, unless TakeTrailerChecksum was called.
func (b *Body) Trailers() http.Header {
	if b.chunked == nil {
		return nil
	}
	return b.chunked.finishedTrailers()
}

// newBody wraps the request body according to x-amz-content-sha256. signer
// is nil unless the request was signed with SigV4 in the Authorization
// header, the only form whose signature can seed chunk signatures.
func newBody(r *http.Request, signer *streamSigner) (*Body, error) {
	src := r.Body
	if src == nil {
		src = http.NoBody
	}
	value := r.Header.Get("X-Amz-Content-Sha256")
	form, err := parsePayloadForm(value)
	if err != nil {
		return nil, err
	}
	source := sourceReader{src}

	switch form {
	case payloadRaw:
		return &Body{src: src, reader: source, decodedLength: r.ContentLength}, nil
	case payloadSHA256:
		want, _ := hex.DecodeString(value)
		reader := &sha256Reader{src: source, hash: sha256.New(), want: want}
		return &Body{src: src, reader: reader, decodedLength: r.ContentLength}, nil
	}

	signed := form == payloadStreamingSigned || form == payloadStreamingSignedTrailer
	if signed && signer == nil {
		return nil, ErrInvalidRequest.withMessage("x-amz-content-sha256 %s requires Signature Version 4 in the Authorization header", value)
	}
	if !signed {
		signer = nil
	}
	declared, err := decodedContentLength(r)
	if err != nil {
		return nil, err
	}
	trailerForm := form != payloadStreamingSigned
	algorithm, err := trailerChecksum(r.Header.Get("X-Amz-Trailer"), trailerForm)
	if err != nil {
		return nil, err
	}
	chunked := newChunkedReader(source, declared, signer, trailerForm, algorithm)
	return &Body{src: src, reader: chunked, chunked: chunked, decodedLength: declared}, nil
}

// decodedContentLength parses x-amz-decoded-content-length, which every
// aws-chunked request must carry.
func decodedContentLength(r *http.Request) (int64, error) {
	value := r.Header.Get("X-Amz-Decoded-Content-Length")
	if value == "" {
		return 0, ErrMissingContentLength.withMessage("You must provide the x-amz-decoded-content-length header with an aws-chunked payload.")
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return 0, ErrInvalidArgument.withMessage("x-amz-decoded-content-length must be a non-negative integer, not %q", value)
	}
	return n, nil
}

// trailerChecksum parses x-amz-trailer, which may name one checksum header
// such as x-amz-checksum-crc32. It returns 0 when the header is absent.
func trailerChecksum(value string, trailerForm bool) (checksum.Algorithm, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, nil
	}
	if !trailerForm {
		return 0, ErrInvalidRequest.withMessage("x-amz-trailer requires x-amz-content-sha256 %s or %s", streamingUnsignedTrailer, streamingSignedTrailer)
	}
	if strings.Contains(value, ",") {
		return 0, ErrInvalidRequest.withMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	algorithm, err := checksum.Parse(value)
	if err != nil || !strings.HasPrefix(strings.ToLower(value), checksum.HeaderPrefix) {
		return 0, ErrInvalidRequest.withMessage("The value specified in the x-amz-trailer header is not supported: %q", value)
	}
	return algorithm, nil
}

// sourceReader reports a body cut short by the client as IncompleteBody.
type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = ErrIncompleteBody.wrapping(err)
	}
	return n, err
}

// sha256Reader checks the SHA-256 of a raw body against the hex value of
// x-amz-content-sha256 when the body ends.
type sha256Reader struct {
	src     io.Reader
	hash    hash.Hash
	want    []byte
	started bool // Read was called
	err     error
}

func (s *sha256Reader) Read(p []byte) (int, error) {
	s.started = true
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.src.Read(p)
	s.hash.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := s.hash.Sum(nil); !bytes.Equal(got, s.want) {
			err = ErrXAmzContentSHA256Mismatch.withMessage("The provided 'x-amz-content-sha256' header (%x) does not match what was computed (%x).", s.want, got)
		}
	}
	if err != nil {
		s.err = err
	}
	return n, err
}
