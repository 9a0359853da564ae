package sigv4

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Examples published in the Amazon S3 API Reference: "Signature Calculations
// for the Authorization Header: Transferring Payload in a Single Chunk",
// "…in Multiple Chunks (Chunked Upload)", "…for trailing headers (chunked
// uploads)", "Authenticating Requests: Using Query Parameters" and "Signing
// and authenticating REST requests (AWS signature version 2)". The signatures
// below are the ones printed there.

const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func docVerifier(now time.Time) *Verifier {
	return &Verifier{Credentials: staticCredentials{docAccessKey: docSecret}, Region: "us-east-1", Now: func() time.Time { return now }}
}

func TestSpecGetObjectExample(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://examplebucket.s3.amazonaws.com/test.txt", nil)
	req.Header.Set("Range", "bytes=0-9")
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256Hex)
	req.Header.Set("X-Amz-Date", "20130524T000000Z")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
	got := serve(t, docVerifier(docTime), "examplebucket", req)
	expectAccepted(t, got)
	if got.identity.AccessKey != docAccessKey {
		t.Errorf("AccessKey = %q", got.identity.AccessKey)
	}
}

func TestSpecPresignedExample(t *testing.T) {
	const presigned = "http://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	req, _ := http.NewRequest("GET", presigned, nil)
	expectAccepted(t, serve(t, docVerifier(docTime.Add(86400*time.Second)), "", req))

	req, _ = http.NewRequest("GET", presigned, nil)
	expectCode(t, serve(t, docVerifier(docTime.Add(86401*time.Second)), "", req), "AccessDenied")
}

// specChunkedRequest builds the chunked upload example: 66560 bytes of "a"
// in a 65536-byte chunk and a 1024-byte chunk.
func specChunkedRequest(payloadForm, seed string, body []byte, extraHeaders http.Header) *http.Request {
	req, _ := http.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
	req.Header.Set("X-Amz-Date", "20130524T000000Z")
	req.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	req.Header.Set("X-Amz-Content-Sha256", payloadForm)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	for name, values := range extraHeaders {
		req.Header[name] = values
	}
	signedHeaders := "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class"
	if extraHeaders.Get("X-Amz-Trailer") != "" {
		signedHeaders = "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer"
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="+signedHeaders+",Signature="+seed)
	return req
}

func specChunkedBody(signatures [3]string, tail string) []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=" + signatures[0] + "\r\n")
	b.WriteString(strings.Repeat("a", 65536) + "\r\n")
	b.WriteString("400;chunk-signature=" + signatures[1] + "\r\n")
	b.WriteString(strings.Repeat("a", 1024) + "\r\n")
	b.WriteString("0;chunk-signature=" + signatures[2] + "\r\n")
	b.WriteString(tail)
	return b.Bytes()
}

func TestSpecChunkedUploadExample(t *testing.T) {
	signatures := [3]string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	const seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	body := specChunkedBody(signatures, "\r\n")
	if len(body) != 66824 {
		t.Fatalf("example body has %d bytes, the example's Content-Length is 66824", len(body))
	}
	got := serve(t, docVerifier(docTime), "", specChunkedRequest(streamingSigned, seed, body, nil))
	expectAccepted(t, got)
	if string(got.body) != strings.Repeat("a", 66560) {
		t.Errorf("decoded body has %d bytes", len(got.body))
	}

	// Swapping the two data chunks keeps every byte count but breaks the chain.
	swapped := [3]string{signatures[1], signatures[0], signatures[2]}
	expectCode(t, serve(t, docVerifier(docTime), "", specChunkedRequest(streamingSigned, seed, specChunkedBody(swapped, "\r\n"), nil)), "SignatureDoesNotMatch")
}

func TestSpecTrailerExample(t *testing.T) {
	signatures := [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
	const seed = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
	const trailerSignature = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
	trailer := http.Header{"X-Amz-Trailer": {"x-amz-checksum-crc32c"}}

	tail := "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + trailerSignature + "\r\n\r\n"
	got := serve(t, docVerifier(docTime), "", specChunkedRequest(streamingSignedTrailer, seed, specChunkedBody(signatures, tail), trailer))
	expectAccepted(t, got)
	if got.trailers.Get("X-Amz-Checksum-Crc32c") != "sOO8/Q==" {
		t.Errorf("trailers = %v", got.trailers)
	}

	// A different checksum with the example's trailer signature.
	tail = "x-amz-checksum-crc32c:AAAAAA==\r\nx-amz-trailer-signature:" + trailerSignature + "\r\n\r\n"
	expectCode(t, serve(t, docVerifier(docTime), "", specChunkedRequest(streamingSignedTrailer, seed, specChunkedBody(signatures, tail), trailer)), "SignatureDoesNotMatch")
}

func TestSpecSigV2Examples(t *testing.T) {
	cases := []struct {
		name   string
		method string
		url    string
		bucket string
		header http.Header
		now    time.Time
	}{
		{name: "virtual-hosted get", method: "GET", url: "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/photos/puppy.jpg", bucket: "awsexamplebucket1",
			header: http.Header{"Date": {"Tue, 27 Mar 2007 19:36:42 +0000"}, "Authorization": {"AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g="}},
			now:    time.Date(2007, 3, 27, 19, 36, 42, 0, time.UTC)},
		{name: "upload with repeated meta header to a CNAME bucket", method: "PUT", url: "http://static.example.com/db-backup.dat.gz", bucket: "static.example.com",
			header: http.Header{
				"Date":                         {"Tue, 27 Mar 2007 21:06:08 +0000"},
				"X-Amz-Acl":                    {"public-read"},
				"Content-Type":                 {"application/x-download"},
				"Content-Md5":                  {"4gJE4saaMU4BqNR0kLY+lw=="},
				"X-Amz-Meta-Reviewedby":        {"joe@example.com", "jane@example.com"},
				"X-Amz-Meta-Filechecksum":      {"0x02661779"},
				"X-Amz-Meta-Checksumalgorithm": {"crc32"},
				"Content-Disposition":          {"attachment; filename=database.dat"},
				"Content-Encoding":             {"gzip"},
				"Authorization":                {"AWS AKIAIOSFODNN7EXAMPLE:jtBQa0Aq+DkULFI8qrpwIjGEx0E="},
			},
			now: time.Date(2007, 3, 27, 21, 6, 8, 0, time.UTC)},
		// The x-amz-date rule: with x-amz-date present, the Date line of the
		// string to sign is empty. Signature computed with Python's hmac over
		// "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/awsexamplebucket1/photos/puppy.jpg".
		{name: "path-style delete with x-amz-date", method: "DELETE", url: "http://s3.us-west-1.amazonaws.com/awsexamplebucket1/photos/puppy.jpg",
			header: http.Header{"Date": {"Tue, 27 Mar 2007 21:20:27 +0000"}, "X-Amz-Date": {"Tue, 27 Mar 2007 21:20:26 +0000"},
				"Authorization": {"AWS AKIAIOSFODNN7EXAMPLE:Ri1hpB1zpS9pGqR7y8kuNFCl4sE="}},
			now: time.Date(2007, 3, 27, 21, 20, 26, 0, time.UTC)},
		{name: "query string", method: "GET", url: "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620", bucket: "johnsmith",
			now: time.Unix(1175139620, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, c.url, bytes.NewReader(nil))
			if err != nil {
				t.Fatal(err)
			}
			for name, values := range c.header {
				req.Header[name] = values
			}
			got := serve(t, docVerifier(c.now), c.bucket, req)
			expectAccepted(t, got)
			if got.identity.AccessKey != docAccessKey {
				t.Errorf("AccessKey = %q", got.identity.AccessKey)
			}
		})
	}
}

func TestSpecSigV2Rejections(t *testing.T) {
	get := func(date, authorization string) *http.Request {
		req, _ := http.NewRequest("GET", "http://awsexamplebucket1.us-west-1.s3.amazonaws.com/photos/puppy.jpg", nil)
		req.Header.Set("Date", date)
		req.Header.Set("Authorization", authorization)
		return req
	}
	const date = "Tue, 27 Mar 2007 19:36:42 +0000"
	signedAt := time.Date(2007, 3, 27, 19, 36, 42, 0, time.UTC)

	expectCode(t, serve(t, docVerifier(signedAt.Add(16*time.Minute)), "awsexamplebucket1", get(date, "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")), "RequestTimeTooSkewed")
	expectCode(t, serve(t, docVerifier(signedAt), "awsexamplebucket1", get(date, "AWS AKIDUNKNOWN:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")), "InvalidAccessKeyId")
	expectCode(t, serve(t, docVerifier(signedAt), "awsexamplebucket1", get(date, "AWS AKIAIOSFODNN7EXAMPLE")), "InvalidArgument")
	expectCode(t, serve(t, docVerifier(signedAt), "awsexamplebucket1", get("yesterday", "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=")), "AccessDenied")

	// The query form: expired one second after Expires, and incomplete.
	expired, _ := http.NewRequest("GET", "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620", nil)
	err := expectCode(t, serve(t, docVerifier(time.Unix(1175139621, 0)), "johnsmith", expired), "AccessDenied")
	if err.Message != "Request has expired" {
		t.Errorf("message = %q", err.Message)
	}
	incomplete, _ := http.NewRequest("GET", "http://johnsmith.s3.amazonaws.com/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620", nil)
	expectCode(t, serve(t, docVerifier(time.Unix(1175139000, 0)), "johnsmith", incomplete), "AccessDenied")
}
