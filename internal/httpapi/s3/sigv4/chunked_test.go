package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/checksum"
)

// testChunkSigner signs aws-chunked chunks with the string to sign of the
// S3 documentation, independently of streamSigner.
type testChunkSigner struct {
	key      []byte
	amzDate  string
	scope    string
	previous string
}

func newTestChunkSigner(t *testing.T, req *http.Request) *testChunkSigner {
	t.Helper()
	amzDate := req.Header.Get("X-Amz-Date")
	day := amzDate[:8]
	return &testChunkSigner{
		key:      testSigningKey(testSecret, day),
		amzDate:  amzDate,
		scope:    day + "/" + testRegion + "/s3/aws4_request",
		previous: seedSignature(t, req.Header.Get("Authorization")),
	}
}

func (s *testChunkSigner) sign(algorithm string, lastLine string) string {
	toSign := algorithm + "\n" + s.amzDate + "\n" + s.scope + "\n" + s.previous + "\n" + lastLine
	s.previous = hex.EncodeToString(testHMAC(s.key, toSign))
	return s.previous
}

func (s *testChunkSigner) signChunk(data []byte) string {
	empty := sha256.Sum256(nil)
	sum := sha256.Sum256(data)
	return s.sign("AWS4-HMAC-SHA256-PAYLOAD", hex.EncodeToString(empty[:])+"\n"+hex.EncodeToString(sum[:]))
}

func (s *testChunkSigner) signTrailer(lines string) string {
	sum := sha256.Sum256([]byte(lines))
	return s.sign("AWS4-HMAC-SHA256-TRAILER", hex.EncodeToString(sum[:]))
}

// encodeOptions describe an aws-chunked body for encodeAWSChunked.
type encodeOptions struct {
	chunkSize   int
	signer      *testChunkSigner // nil for unsigned chunks
	trailerForm bool             // write a trailer section after the final chunk
	trailers    []string         // "name:value" lines of the trailer section
}

// encodeAWSChunked frames data as aws-chunked in the form of the S3
// documentation.
func encodeAWSChunked(data []byte, o encodeOptions) []byte {
	var b bytes.Buffer
	writeChunk := func(chunk []byte) {
		b.WriteString(strconv.FormatInt(int64(len(chunk)), 16))
		if o.signer != nil {
			b.WriteString(";chunk-signature=" + o.signer.signChunk(chunk))
		}
		b.WriteString("\r\n")
	}
	for start := 0; start < len(data); start += o.chunkSize {
		chunk := data[start:min(start+o.chunkSize, len(data))]
		writeChunk(chunk)
		b.Write(chunk)
		b.WriteString("\r\n")
	}
	writeChunk(nil)
	if !o.trailerForm {
		b.WriteString("\r\n")
		return b.Bytes()
	}
	var signed strings.Builder
	for _, line := range o.trailers {
		b.WriteString(line + "\r\n")
		signed.WriteString(line + "\n")
	}
	if o.signer != nil {
		b.WriteString("x-amz-trailer-signature:" + o.signer.signTrailer(signed.String()) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// streamingRequest returns a PUT signed by the aws-sdk-go-v2 signer for an
// aws-chunked payload of decodedLength bytes.
func streamingRequest(t *testing.T, payloadForm string, decodedLength int, trailer string) *http.Request {
	t.Helper()
	req := sdkRequest(t, "PUT", "/bucket/chunked.bin", "x-id=PutObject", nil)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decodedLength))
	if trailer != "" {
		req.Header.Set("X-Amz-Trailer", trailer)
	}
	req.ContentLength = 0
	sdkSign(t, req, payloadForm, testAccessKey, testSecret, testRegion, testNow)
	return req
}

func withBody(req *http.Request, body []byte) *http.Request {
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	return req
}

func TestSignedChunksAccepted(t *testing.T) {
	data := patternBody(100_000)
	for _, size := range []int{0, 1, 8191, 65536, 100_000} {
		for _, chunkSize := range []int{1000, 8192, 65536, 200_000} {
			if size > 20_000 && chunkSize == 1000 {
				continue
			}
			req := streamingRequest(t, streamingSigned, size, "")
			body := encodeAWSChunked(data[:size], encodeOptions{chunkSize: chunkSize, signer: newTestChunkSigner(t, req)})
			got := serve(t, newTestVerifier(testNow), "", withBody(req, body))
			expectAccepted(t, got)
			if !bytes.Equal(got.body, data[:size]) {
				t.Errorf("size %d, chunks of %d: decoded %d bytes", size, chunkSize, len(got.body))
			}
			if got.decodedLength != int64(size) {
				t.Errorf("DecodedLength = %d, want %d", got.decodedLength, size)
			}
		}
	}
}

func TestTrailerChecksumsAccepted(t *testing.T) {
	data := patternBody(30_000)
	for _, algorithm := range checksum.Algorithms() {
		for _, form := range []string{streamingUnsignedTrailer, streamingSignedTrailer} {
			t.Run(algorithm.String()+" "+form, func(t *testing.T) {
				req := streamingRequest(t, form, len(data), algorithm.HeaderName())
				line := algorithm.HeaderName() + ":" + checksum.Encode(algorithm.Sum(data))
				opts := encodeOptions{chunkSize: 8192, trailerForm: true, trailers: []string{line}}
				if form == streamingSignedTrailer {
					opts.signer = newTestChunkSigner(t, req)
				}
				got := serve(t, newTestVerifier(testNow), "", withBody(req, encodeAWSChunked(data, opts)))
				expectAccepted(t, got)
				if !bytes.Equal(got.body, data) {
					t.Errorf("decoded %d bytes", len(got.body))
				}
				want := checksum.Encode(algorithm.Sum(data))
				if got.trailers.Get(algorithm.HeaderName()) != want {
					t.Errorf("trailers = %v, want %s", got.trailers, want)
				}
			})
		}
	}
}

func TestUnsignedTrailerWithoutTrailer(t *testing.T) {
	data := []byte("no trailer at all")
	req := streamingRequest(t, streamingUnsignedTrailer, len(data), "")
	got := serve(t, newTestVerifier(testNow), "", withBody(req, encodeAWSChunked(data, encodeOptions{chunkSize: 5, trailerForm: true})))
	expectAccepted(t, got)
	if string(got.body) != string(data) || len(got.trailers) != 0 {
		t.Errorf("body %q, trailers %v", got.body, got.trailers)
	}
}

func TestEncoderMatchesMinioGo(t *testing.T) {
	// Re-encoding the recorded data with the recorded seed signature gives
	// minio-go's body byte for byte, so the test encoder is checked against
	// a real client.
	golden := loadGolden(t, "testdata/minio-go.json")
	c := golden.Cases[0]
	if c.header("X-Amz-Content-Sha256") != streamingSigned {
		t.Fatalf("first minio-go case is %s", c.header("X-Amz-Content-Sha256"))
	}
	req := c.request(t, nil)
	body := encodeAWSChunked(patternBody(70000), encodeOptions{chunkSize: 64 << 10, signer: newTestChunkSigner(t, req)})
	if !bytes.Equal(body, c.bodyBytes(t)) {
		t.Errorf("encoded body differs from minio-go's (%d and %d bytes)", len(body), len(c.bodyBytes(t)))
	}
}

func TestChunkedRejected(t *testing.T) {
	data := patternBody(20_000)
	crc := "x-amz-checksum-crc32:" + checksum.Encode(checksum.CRC32.Sum(data))
	type build func(t *testing.T) *http.Request
	signedBody := func(decoded int, mutate func([]byte) []byte) build {
		return func(t *testing.T) *http.Request {
			req := streamingRequest(t, streamingSigned, decoded, "")
			body := encodeAWSChunked(data, encodeOptions{chunkSize: 8192, signer: newTestChunkSigner(t, req)})
			if mutate != nil {
				body = mutate(bytes.Clone(body))
			}
			return withBody(req, body)
		}
	}
	trailerBody := func(form string, trailers []string, resign bool, mutate func([]byte) []byte) build {
		return func(t *testing.T) *http.Request {
			req := streamingRequest(t, form, len(data), "x-amz-checksum-crc32")
			opts := encodeOptions{chunkSize: 8192, trailerForm: true, trailers: trailers}
			if form == streamingSignedTrailer {
				opts.signer = newTestChunkSigner(t, req)
			}
			body := encodeAWSChunked(data, opts)
			if mutate != nil {
				body = mutate(bytes.Clone(body))
			}
			return withBody(req, body)
		}
	}
	flipDataByte := func(b []byte) []byte {
		b[bytes.Index(b, []byte("\r\n"))+100] ^= 1
		return b
	}
	cases := []struct {
		name  string
		build build
		want  string
	}{
		{"tampered chunk signature", signedBody(len(data), func(b []byte) []byte {
			b[len("2000;chunk-signature=")] ^= 1
			return b
		}), "SignatureDoesNotMatch"},
		{"tampered chunk data", signedBody(len(data), flipDataByte), "SignatureDoesNotMatch"},
		{"missing chunk signature", signedBody(len(data), func(b []byte) []byte {
			return bytes.Replace(b, []byte(";chunk-signature="), []byte(";chunk-signatur="), 1)
		}), "SignatureDoesNotMatch"},
		{"decoded length larger than data", signedBody(len(data)+1, nil), "IncompleteBody"},
		{"decoded length smaller than data", signedBody(len(data)-1, nil), "InvalidRequest"},
		{"body cut inside a chunk", signedBody(len(data), func(b []byte) []byte { return b[:5000] }), "IncompleteBody"},
		{"final chunk missing", signedBody(len(data), func(b []byte) []byte {
			return b[:bytes.LastIndex(b, []byte("0;chunk-signature="))]
		}), "IncompleteBody"},
		{"data after the end", signedBody(len(data), func(b []byte) []byte { return append(b, "extra"...) }), "InvalidRequest"},
		{"chunk not followed by CRLF", signedBody(len(data), func(b []byte) []byte {
			i := bytes.Index(b, []byte("\r\n2000;"))
			b[i] = 'X'
			return b
		}), "InvalidRequest"},
		{"chunk header line too long", signedBody(len(data), func(b []byte) []byte {
			return append([]byte("2000;x="+strings.Repeat("y", maxChunkLineLength)), b[4:]...)
		}), "InvalidRequest"},
		{"invalid chunk size", signedBody(len(data), func(b []byte) []byte { return append([]byte("zz"), b[4:]...) }), "InvalidRequest"},
		{"wrong unsigned trailer checksum", trailerBody(streamingUnsignedTrailer, []string{"x-amz-checksum-crc32:AAAAAA=="}, false, nil), "BadDigest"},
		{"unsigned trailer data changed", trailerBody(streamingUnsignedTrailer, []string{crc}, false, flipDataByte), "BadDigest"},
		{"wrong signed trailer checksum", trailerBody(streamingSignedTrailer, []string{"x-amz-checksum-crc32:AAAAAA=="}, true, nil), "BadDigest"},
		{"signed trailer changed after signing", trailerBody(streamingSignedTrailer, []string{crc}, true, func(b []byte) []byte {
			return bytes.Replace(b, []byte(crc), []byte("x-amz-checksum-crc32:AAAAAA=="), 1)
		}), "SignatureDoesNotMatch"},
		{"signed trailer without signature", trailerBody(streamingSignedTrailer, []string{crc}, true, func(b []byte) []byte {
			i := bytes.Index(b, []byte("x-amz-trailer-signature:"))
			return append(b[:i], "\r\n"...)
		}), "SignatureDoesNotMatch"},
		{"trailer checksum not base64", trailerBody(streamingUnsignedTrailer, []string{"x-amz-checksum-crc32:???"}, false, nil), "InvalidRequest"},
		{"declared trailer missing", trailerBody(streamingUnsignedTrailer, nil, false, nil), "MalformedTrailerError"},
		{"undeclared trailer", trailerBody(streamingUnsignedTrailer, []string{crc, "x-amz-checksum-sha1:2jmj7l5rSw0yVb/vlWAYkK/YBwk="}, false, nil), "MalformedTrailerError"},
		{"duplicate trailer", trailerBody(streamingUnsignedTrailer, []string{crc, crc}, false, nil), "MalformedTrailerError"},
		{"trailer line without colon", trailerBody(streamingUnsignedTrailer, []string{"garbage"}, false, nil), "MalformedTrailerError"},
		{"too many trailer lines", trailerBody(streamingUnsignedTrailer, nil, false, func(b []byte) []byte {
			end := bytes.LastIndex(b, []byte("\r\n0\r\n")) + len("\r\n0\r\n")
			return append(b[:end:end], strings.Repeat("x-amz-checksum-crc32:AAAAAA==\r\n", maxTrailerLines+1)...)
		}), "MalformedTrailerError"},
		{"trailer signature on unsigned payload", trailerBody(streamingUnsignedTrailer, []string{crc, "x-amz-trailer-signature:" + strings.Repeat("0", 64)}, false, nil), "MalformedTrailerError"},
		{"missing decoded length", func(t *testing.T) *http.Request {
			req := sdkRequest(t, "PUT", "/bucket/k", "", nil)
			sdkSign(t, req, streamingSigned, testAccessKey, testSecret, testRegion, testNow)
			return withBody(req, []byte("0\r\n\r\n"))
		}, "MissingContentLength"},
		{"invalid decoded length", func(t *testing.T) *http.Request {
			req := sdkRequest(t, "PUT", "/bucket/k", "", nil)
			req.Header.Set("X-Amz-Decoded-Content-Length", "-5")
			sdkSign(t, req, streamingUnsignedTrailer, testAccessKey, testSecret, testRegion, testNow)
			return withBody(req, []byte("0\r\n\r\n"))
		}, "InvalidArgument"},
		{"two trailer checksums", func(t *testing.T) *http.Request {
			req := streamingRequest(t, streamingUnsignedTrailer, 0, "x-amz-checksum-crc32,x-amz-checksum-sha256")
			return withBody(req, []byte("0\r\n\r\n"))
		}, "InvalidRequest"},
		{"unsupported trailer", func(t *testing.T) *http.Request {
			req := streamingRequest(t, streamingUnsignedTrailer, 0, "x-amz-meta-color")
			return withBody(req, []byte("0\r\n\r\n"))
		}, "InvalidRequest"},
		{"trailer declared without trailer form", func(t *testing.T) *http.Request {
			req := streamingRequest(t, streamingSigned, 0, "x-amz-checksum-crc32")
			return withBody(req, []byte("0\r\n\r\n"))
		}, "InvalidRequest"},
		{"signed chunks without a header signature", func(t *testing.T) *http.Request {
			req := sdkPresign(t, presignOptions{method: "PUT"})
			req.Header.Set("X-Amz-Content-Sha256", streamingSigned)
			req.Header.Set("X-Amz-Decoded-Content-Length", "0")
			return withBody(req, []byte("0\r\n\r\n"))
		}, "InvalidRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expectCode(t, serve(t, newTestVerifier(testNow), "", c.build(t)), c.want)
		})
	}
}

func TestChunkOverMaximumSizeDigits(t *testing.T) {
	body := []byte(strings.Repeat("f", maxChunkSizeDigits+1) + "\r\n")
	r := newChunkedReader(bytes.NewReader(body), 1<<62, nil, true, 0)
	_, err := io.ReadAll(r)
	if !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("error = %v, want InvalidRequest", err)
	}
}

func TestAnonymousUnsignedTrailerDecoded(t *testing.T) {
	data := []byte("anonymous aws-chunked upload")
	req := sdkRequest(t, "PUT", "/bucket/k", "", nil)
	req.Header.Set("X-Amz-Content-Sha256", streamingUnsignedTrailer)
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
	line := "x-amz-checksum-crc32c:" + checksum.Encode(checksum.CRC32C.Sum(data))
	got := serve(t, newTestVerifier(testNow), "", withBody(req, encodeAWSChunked(data, encodeOptions{chunkSize: 10, trailerForm: true, trailers: []string{line}})))
	expectAccepted(t, got)
	if got.identity.Method != MethodAnonymous || string(got.body) != string(data) {
		t.Errorf("identity %+v, body %q", got.identity, got.body)
	}
}

func TestTrailersOnlyAfterEOF(t *testing.T) {
	data := []byte("0123456789")
	line := "x-amz-checksum-crc32:" + checksum.Encode(checksum.CRC32.Sum(data))
	body := encodeAWSChunked(data, encodeOptions{chunkSize: 4, trailerForm: true, trailers: []string{line}})
	r := newChunkedReader(bytes.NewReader(body), int64(len(data)), nil, true, checksum.CRC32)
	b := &Body{src: io.NopCloser(nil), reader: r, chunked: r, decodedLength: int64(len(data))}
	buf := make([]byte, 4)
	if _, err := b.Read(buf); err != nil {
		t.Fatal(err)
	}
	if b.Trailers() != nil {
		t.Error("Trailers is set before EOF")
	}
	if _, err := io.ReadAll(b); err != nil {
		t.Fatal(err)
	}
	if b.Trailers().Get("X-Amz-Checksum-Crc32") == "" {
		t.Errorf("Trailers after EOF = %v", b.Trailers())
	}
}

// endlessPattern yields n bytes of patternBody's pattern without holding them.
type endlessPattern struct{ offset, n int64 }

// patternPeriod is patternBody's pattern repeated, to copy from at any offset.
var patternPeriod = patternBody(251 * 64)

func (p *endlessPattern) Read(b []byte) (int, error) {
	if p.offset >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.offset)]
	n := 0
	for n < len(b) {
		start := int((p.offset + int64(n)) % 251)
		n += copy(b[n:], patternPeriod[start:])
	}
	p.offset += int64(n)
	return n, nil
}

func TestLargeChunkConstantMemory(t *testing.T) {
	// One 32 MiB chunk, as aws-sdk-go-v2 sends a whole PutObject body, decoded
	// through a 32 KiB buffer. Holding the chunk would allocate 32 MiB.
	const size = 32 << 20
	crc := checksum.CRC32C.New()
	if _, err := io.Copy(crc, &endlessPattern{n: size}); err != nil {
		t.Fatal(err)
	}
	framed := io.MultiReader(
		strings.NewReader(strconv.FormatInt(size, 16)+"\r\n"),
		&endlessPattern{n: size},
		strings.NewReader("\r\n0\r\nx-amz-checksum-crc32c:"+checksum.Encode(crc.Sum(nil))+"\r\n\r\n"),
	)
	r := newChunkedReader(framed, size, nil, true, checksum.CRC32C)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := io.CopyBuffer(io.Discard, r, make([]byte, 32<<10))
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("decoded %d bytes, error %v", n, err)
	}
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 8<<20 {
		t.Errorf("decoding allocated %d bytes", allocated)
	}
}

func FuzzChunkedReader(f *testing.F) {
	data := []byte("hello fuzz")
	crc := "x-amz-checksum-crc32:" + checksum.Encode(checksum.CRC32.Sum(data))
	f.Add(encodeAWSChunked(data, encodeOptions{chunkSize: 3, trailerForm: true, trailers: []string{crc}}), int64(len(data)), false)
	f.Add(encodeAWSChunked(data, encodeOptions{chunkSize: 4}), int64(len(data)), false)
	f.Add([]byte("a;chunk-signature="+strings.Repeat("0", 64)+"\r\n0123456789\r\n0;chunk-signature="+strings.Repeat("0", 64)+"\r\n\r\n"), int64(10), true)
	f.Add([]byte("0\r\nx-amz-checksum-crc32:AAAAAA==\n\r\nx-amz-trailer-signature:00\r\n\r\n"), int64(0), true)
	f.Add([]byte("ffffffffffffffff\r\n"), int64(1<<40), false)

	f.Fuzz(func(t *testing.T, body []byte, declared int64, signed bool) {
		if declared < 0 {
			declared = -declared
		}
		var signer *streamSigner
		if signed {
			signer = &streamSigner{key: []byte("key"), amzDate: "20260115T120000Z", scope: "20260115/us-east-1/s3/aws4_request", previous: strings.Repeat("0", 64)}
		}
		r := newChunkedReader(bytes.NewReader(body), declared, signer, true, checksum.CRC32)
		n, err := io.Copy(io.Discard, r)
		if n > int64(len(body)) {
			t.Fatalf("decoded %d bytes from %d input bytes", n, len(body))
		}
		if n > declared {
			t.Fatalf("decoded %d bytes, more than the declared %d", n, declared)
		}
		var authErr *Error
		if err != nil && !errors.As(err, &authErr) {
			t.Fatalf("error %v is not an *Error", err)
		}
		if err == nil && n != declared {
			t.Fatalf("clean end after %d bytes, declared %d", n, declared)
		}
		if len(r.trailers) > maxTrailerLines {
			t.Fatalf("%d trailers kept", len(r.trailers))
		}
	})
}

// trailerChunkedBody returns a Body over data framed as an unsigned
// aws-chunked payload whose trailer lines are trailers.
func trailerChunkedBody(data []byte, trailers ...string) *Body {
	body := encodeAWSChunked(data, encodeOptions{chunkSize: 4, trailerForm: true, trailers: trailers})
	r := newChunkedReader(bytes.NewReader(body), int64(len(data)), nil, true, checksum.CRC32)
	return &Body{src: io.NopCloser(nil), reader: r, chunked: r, decodedLength: int64(len(data))}
}

func TestTakeTrailerChecksumHandsTheComparisonOver(t *testing.T) {
	data := []byte("0123456789")
	b := trailerChunkedBody(data, "x-amz-checksum-crc32:AAAAAA==")
	name, ok := b.TakeTrailerChecksum()
	if !ok || name != "x-amz-checksum-crc32" {
		t.Fatalf("TakeTrailerChecksum = %q, %t; want x-amz-checksum-crc32, true", name, ok)
	}
	// The caller compares the checksum now, so a wrong one reads to the end.
	got, err := io.ReadAll(b)
	if err != nil || string(got) != string(data) {
		t.Fatalf("read %q, %v; want %q and no error", got, err, data)
	}
	if v := b.Trailers().Get(name); v != "AAAAAA==" {
		t.Errorf("trailer after EOF = %q, want AAAAAA==", v)
	}
}

func TestTakeTrailerChecksumStillChecksTheTrailer(t *testing.T) {
	data := []byte("0123456789")
	for name, tc := range map[string]struct {
		trailers []string
		code     string
	}{
		"missing trailer": {nil, "MalformedTrailerError"},
		"not base64":      {[]string{"x-amz-checksum-crc32:???"}, "InvalidRequest"},
	} {
		b := trailerChunkedBody(data, tc.trailers...)
		if _, ok := b.TakeTrailerChecksum(); !ok {
			t.Fatalf("%s: TakeTrailerChecksum = false, want true", name)
		}
		_, err := io.ReadAll(b)
		var e *Error
		if !errors.As(err, &e) || e.Code != tc.code {
			t.Errorf("%s: read error %v, want %s", name, err, tc.code)
		}
	}
}

func TestTakeTrailerChecksumOnlyBeforeRead(t *testing.T) {
	data := []byte("0123456789")
	b := trailerChunkedBody(data, "x-amz-checksum-crc32:"+checksum.Encode(checksum.CRC32.Sum(data)))
	if _, err := b.Read(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.TakeTrailerChecksum(); ok {
		t.Error("TakeTrailerChecksum after Read = true, want false")
	}

	noTrailer := newChunkedReader(bytes.NewReader(encodeAWSChunked(data, encodeOptions{chunkSize: 4})), int64(len(data)), nil, false, 0)
	b = &Body{src: io.NopCloser(nil), reader: noTrailer, chunked: noTrailer, decodedLength: int64(len(data))}
	if _, ok := b.TakeTrailerChecksum(); ok {
		t.Error("TakeTrailerChecksum without a trailer = true, want false")
	}
	raw, err := newBody(bodyRequest(t, unsignedPayload, strings.NewReader("raw"), 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.TakeTrailerChecksum(); ok {
		t.Error("TakeTrailerChecksum of a raw body = true, want false")
	}
}
