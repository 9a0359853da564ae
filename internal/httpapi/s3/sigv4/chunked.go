package sigv4

import (
	"bufio"
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

// Bounds of the aws-chunked decoder. Chunk data is streamed, never
// buffered, so a chunk may be as large as x-amz-decoded-content-length.
// That matters because aws-sdk-go-v2 sends a whole PutObject body as one
// chunk. Only the header and trailer lines are held in memory.
const (
	// maxChunkLineLength bounds a chunk header or trailer line, line end
	// included. A signed chunk header takes about 90 bytes.
	maxChunkLineLength = 4096
	// maxTrailerLines bounds the lines after the final chunk, blank lines
	// included.
	maxTrailerLines = 16
	// maxChunkSizeDigits bounds the hex digits of a chunk size.
	maxChunkSizeDigits = 15
)

// streamSigner verifies the chain of chunk signatures of a
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD body. Each signature covers the
// previous one, starting from the request signature, so chunks cannot be
// dropped, reordered or replaced.
type streamSigner struct {
	key      []byte // SigV4 signing key of the request
	amzDate  string // request time, "20060102T150405Z"
	scope    string // credential scope, "20060102/us-east-1/s3/aws4_request"
	previous string // hex signature of the request or of the previous chunk
}

// verifyChunk checks the signature of a chunk whose SHA-256 is dataHash and
// advances the chain.
func (s *streamSigner) verifyChunk(dataHash []byte, sent string) bool {
	toSign := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.previous + "\n" +
		emptySHA256Hex + "\n" + hex.EncodeToString(dataHash)
	return s.advance(toSign, sent)
}

// verifyTrailer checks x-amz-trailer-signature, whose string to sign holds
// the SHA-256 of the trailer lines, each as "name:value\n".
func (s *streamSigner) verifyTrailer(trailerHash []byte, sent string) bool {
	toSign := "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + s.previous + "\n" +
		hex.EncodeToString(trailerHash)
	return s.advance(toSign, sent)
}

func (s *streamSigner) advance(toSign, sent string) bool {
	computed := hmacSHA256(s.key, toSign)
	if !signatureMatches(computed, sent) {
		return false
	}
	s.previous = hex.EncodeToString(computed)
	return true
}

// chunkedReader decodes an aws-chunked body:
//
//	hex-size [";chunk-signature=" 64-hex] CRLF data CRLF   (repeated)
//	"0" [";chunk-signature=" 64-hex] CRLF
//	then CRLF, or for the trailer forms: trailer lines, CRLF
//
// It verifies the chunk signatures when signer is set, checks that the data
// adds up to x-amz-decoded-content-length, and verifies the trailing
// checksum before it returns io.EOF.
type chunkedReader struct {
	src         *bufio.Reader
	signer      *streamSigner      // nil for STREAMING-UNSIGNED-PAYLOAD-TRAILER
	trailerForm bool               // a trailer section follows the final chunk
	algorithm   checksum.Algorithm // checksum named by x-amz-trailer, or 0
	// checksum is the running checksum of the decoded data, nil without
	// algorithm and after Body.TakeTrailerChecksum.
	checksum hash.Hash
	started  bool // Read has been called

	declared  int64 // x-amz-decoded-content-length
	decoded   int64 // data bytes returned so far
	remaining int64 // data bytes of the current chunk not yet read
	inChunk   bool  // between a chunk header and the CRLF after its data

	chunkHash      hash.Hash // SHA-256 of the current chunk, signed forms only
	chunkSignature string

	trailers http.Header
	err      error // sticky; io.EOF after a complete, verified body
}

func newChunkedReader(src io.Reader, declared int64, signer *streamSigner, trailerForm bool, algorithm checksum.Algorithm) *chunkedReader {
	c := &chunkedReader{
		src:         bufio.NewReaderSize(src, maxChunkLineLength),
		signer:      signer,
		trailerForm: trailerForm,
		algorithm:   algorithm,
		declared:    declared,
		trailers:    http.Header{},
	}
	if algorithm != 0 {
		c.checksum = algorithm.New()
	}
	if signer != nil {
		c.chunkHash = sha256.New()
	}
	return c
}

// Read returns decoded data. Chunk data reaches the caller before the
// chunk's signature is checked at the end of the chunk, so a caller must
// treat nothing as verified until Read returns io.EOF.
func (c *chunkedReader) Read(p []byte) (int, error) {
	c.started = true
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for c.remaining == 0 {
		if err := c.nextChunk(); err != nil {
			c.err = err
			return 0, err
		}
	}

	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.src.Read(p)
	c.remaining -= int64(n)
	c.decoded += int64(n)
	if c.chunkHash != nil {
		c.chunkHash.Write(p[:n])
	}
	if c.checksum != nil {
		c.checksum.Write(p[:n])
	}
	if err != nil {
		c.err = truncated(err)
		return n, c.err
	}
	return n, nil
}

// nextChunk ends the current chunk, if any, and reads the next chunk
// header. After the final chunk it reads the trailer section, runs the
// final checks and returns io.EOF.
func (c *chunkedReader) nextChunk() error {
	if c.inChunk {
		if err := c.endChunk(); err != nil {
			return err
		}
	}
	size, signature, err := c.readChunkHeader()
	if err != nil {
		return err
	}
	if size > c.declared-c.decoded {
		return ErrInvalidRequest.withMessage("The aws-chunked body holds more data than x-amz-decoded-content-length, %d bytes.", c.declared)
	}
	if size == 0 {
		return c.finish(signature)
	}
	c.remaining = size
	c.inChunk = true
	c.chunkSignature = signature
	if c.chunkHash != nil {
		c.chunkHash.Reset()
	}
	return nil
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunkedReader) endChunk() error {
	c.inChunk = false
	first, err := c.src.ReadByte()
	if err != nil {
		return truncated(err)
	}
	second, err := c.src.ReadByte()
	if err != nil {
		return truncated(err)
	}
	if first != '\r' || second != '\n' {
		return ErrInvalidRequest.withMessage("The aws-chunked body is malformed: chunk data is not followed by CRLF.")
	}
	if c.signer != nil && !c.signer.verifyChunk(c.chunkHash.Sum(nil), c.chunkSignature) {
		return ErrSignatureDoesNotMatch.withMessage("The chunk signature we calculated does not match the chunk-signature you provided after byte %d.", c.decoded)
	}
	return nil
}

// readChunkHeader parses "hex-size[;name=value]…". The signed forms need a
// chunk-signature extension; other extensions are ignored.
func (c *chunkedReader) readChunkHeader() (int64, string, error) {
	line, err := c.readLine()
	if err != nil {
		return 0, "", err
	}
	sizeText, extensions, _ := strings.Cut(line, ";")
	sizeText = strings.TrimSpace(sizeText)
	if sizeText == "" || len(sizeText) > maxChunkSizeDigits {
		return 0, "", ErrInvalidRequest.withMessage("The aws-chunked body is malformed: invalid chunk size %q.", sizeText)
	}
	size, err := strconv.ParseInt(sizeText, 16, 64)
	if err != nil || size < 0 {
		return 0, "", ErrInvalidRequest.withMessage("The aws-chunked body is malformed: invalid chunk size %q.", sizeText)
	}

	var signature string
	for extension := range strings.SplitSeq(extensions, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(extension), "=")
		if name == "chunk-signature" {
			signature = value
		}
	}
	if c.signer != nil && len(signature) != sha256.Size*2 {
		return 0, "", ErrSignatureDoesNotMatch.withMessage("The aws-chunked body has a chunk without a valid chunk-signature.")
	}
	return size, signature, nil
}

// finish handles the final, empty chunk: its signature, the length check,
// the trailer section and the trailing checksum.
func (c *chunkedReader) finish(signature string) error {
	if c.signer != nil && !c.signer.verifyChunk(emptySHA256(), signature) {
		return ErrSignatureDoesNotMatch.withMessage("The chunk signature we calculated does not match the chunk-signature you provided for the final chunk.")
	}
	if c.decoded != c.declared {
		return ErrIncompleteBody.withMessage("The aws-chunked body holds %d bytes but x-amz-decoded-content-length is %d.", c.decoded, c.declared)
	}
	if c.trailerForm {
		if err := c.readTrailers(); err != nil {
			return err
		}
	} else if err := c.expectBlankLine(); err != nil {
		return err
	}
	if err := c.verifyChecksum(); err != nil {
		return err
	}
	if _, err := c.src.ReadByte(); err != io.EOF {
		if err != nil {
			return truncated(err)
		}
		return ErrInvalidRequest.withMessage("The request body continues after the end of the aws-chunked data.")
	}
	return io.EOF
}

func (c *chunkedReader) expectBlankLine() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if line != "" {
		return ErrInvalidRequest.withMessage("The aws-chunked body is malformed: the final chunk is not followed by an empty line.")
	}
	return nil
}

// readLine reads a line ending in LF or CRLF and returns it without the
// line end. A line longer than maxChunkLineLength is rejected.
func (c *chunkedReader) readLine() (string, error) {
	line, err := c.src.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", ErrInvalidRequest.withMessage("The aws-chunked body is malformed: a line is longer than %d bytes.", maxChunkLineLength)
	}
	if err != nil {
		return "", truncated(err)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

// truncated reports a body that ends before the aws-chunked data does as
// IncompleteBody, and passes other read errors through.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrIncompleteBody.withMessage("The request body ended before the end of the aws-chunked data.")
	}
	return err
}

func emptySHA256() []byte {
	sum := sha256.Sum256(nil)
	return sum[:]
}
