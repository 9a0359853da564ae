package sigv4

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The golden files hold requests signed by real clients:
//
//   - testdata/botocore.json: botocore 1.43.11 through its S3 client, recorded by
//     testdata/botocore_golden.py (the command is in its docstring).
//   - testdata/minio-go.json: minio-go v7.4.1 PutObject over http, recorded by
//     testdata/miniocap (the command is in its package comment).

// patternBody is the object data of the recorded uploads: byte i is i mod 251.
func patternBody(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i % 251)
	}
	return data
}

type goldenExpectation struct {
	method   string
	body     []byte      // decoded body the handler must read; nil means the recorded body
	trailers http.Header // trailers after EOF, nil when none
}

var botocoreExpectations = map[string]goldenExpectation{
	"sigv4 get object special key":      {method: MethodSigV4Header},
	"sigv4 put object hex payload":      {method: MethodSigV4Header, body: patternBody(2500)},
	"sigv4 list objects v2":             {method: MethodSigV4Header},
	"sigv4 delete objects":              {method: MethodSigV4Header},
	"sigv4 put object unsigned trailer": {method: MethodSigV4Header, body: patternBody(2500), trailers: http.Header{"X-Amz-Checksum-Crc32": {"2R7zhA=="}}},
	"sigv4 upload part unsigned trailer sha256": {method: MethodSigV4Header, body: patternBody(1500),
		trailers: http.Header{"X-Amz-Checksum-Sha256": {"ENCbEAGIBb+mkOb3VG9IWCVAW7GvObq3XStja26sWNs="}}},
	"sigv4 virtual host get":                {method: MethodSigV4Header},
	"sigv2 get object":                      {method: MethodSigV2Header},
	"sigv2 put object":                      {method: MethodSigV2Header, body: []byte("hello sigv2")},
	"sigv2 get object acl":                  {method: MethodSigV2Header},
	"sigv2 list parts":                      {method: MethodSigV2Header},
	"sigv2 get with response overrides":     {method: MethodSigV2Header},
	"sigv2 virtual host get":                {method: MethodSigV2Header},
	"presign default get":                   {method: MethodSigV2Query},
	"presign default get response override": {method: MethodSigV2Query},
	"presign default put":                   {method: MethodSigV2Query, body: []byte("uploaded through a presigned url")},
	"presign sigv4 get":                     {method: MethodSigV4Query},
	"presign sigv4 put":                     {method: MethodSigV4Query, body: []byte("uploaded through a presigned url")},
	"presign sigv4 virtual host get":        {method: MethodSigV4Query},
	"presign sigv2 virtual host get":        {method: MethodSigV2Query},
}

func TestBotocoreGoldenAccepted(t *testing.T) {
	golden := loadGolden(t, "testdata/botocore.json")
	now, err := time.Parse(time.RFC3339, golden.Time)
	if err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) != len(botocoreExpectations) {
		t.Errorf("golden file has %d cases, expectations %d", len(golden.Cases), len(botocoreExpectations))
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			want, ok := botocoreExpectations[c.Name]
			if !ok {
				t.Fatalf("no expectation for %q", c.Name)
			}
			sent := c.bodyBytes(t)
			if len(sent) == 0 {
				sent = want.body
			}
			wantBody := want.body
			if wantBody == nil {
				wantBody = sent
			}
			got := serve(t, newTestVerifier(now), c.VirtualHostBucket, c.request(t, sent))
			expectAccepted(t, got)
			if got.identity.AccessKey != testAccessKey || got.identity.Method != want.method {
				t.Errorf("identity = %+v, want %s by %s", got.identity, want.method, testAccessKey)
			}
			if !bytes.Equal(got.body, wantBody) {
				t.Errorf("decoded body has %d bytes, want %d", len(got.body), len(wantBody))
			}
			if want.trailers != nil && !equalHeaders(got.trailers, want.trailers) {
				t.Errorf("trailers = %v, want %v", got.trailers, want.trailers)
			}
		})
	}
}

func TestBotocoreGoldenRejectsWrongSecret(t *testing.T) {
	golden := loadGolden(t, "testdata/botocore.json")
	now, _ := time.Parse(time.RFC3339, golden.Time)
	v := newTestVerifier(now)
	v.Credentials = staticCredentials{testAccessKey: "another secret"}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			sent := c.bodyBytes(t)
			if len(sent) == 0 {
				sent = botocoreExpectations[c.Name].body
			}
			expectCode(t, serve(t, v, c.VirtualHostBucket, c.request(t, sent)), "SignatureDoesNotMatch")
		})
	}
}

func TestBotocoreGoldenRejectsLateRequests(t *testing.T) {
	// Two hours after signing, header-signed requests are skewed and every
	// presigned URL of the golden file (60 s to 3600 s) has expired.
	golden := loadGolden(t, "testdata/botocore.json")
	now, _ := time.Parse(time.RFC3339, golden.Time)
	v := newTestVerifier(now.Add(2 * time.Hour))
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			got := serve(t, v, c.VirtualHostBucket, c.request(t, c.bodyBytes(t)))
			if strings.HasPrefix(c.Name, "presign") {
				err := expectCode(t, got, "AccessDenied")
				if err.Message != "Request has expired" {
					t.Errorf("message = %q, want Request has expired", err.Message)
				}
				return
			}
			expectCode(t, got, "RequestTimeTooSkewed")
		})
	}
}

func TestBotocoreGoldenTampered(t *testing.T) {
	golden := loadGolden(t, "testdata/botocore.json")
	now, _ := time.Parse(time.RFC3339, golden.Time)
	byName := map[string]goldenCase{}
	for _, c := range golden.Cases {
		byName[c.Name] = c
	}
	cases := []struct {
		name   string
		golden string
		bucket *string // overrides the virtual-host bucket when set
		mutate func(t *testing.T, req *http.Request, body []byte) []byte
		want   string
	}{
		{name: "hex payload body changed", golden: "sigv4 put object hex payload",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				changed := bytes.Clone(body)
				changed[100] ^= 1
				req.Body, req.ContentLength = readCloser(changed), int64(len(changed))
				return changed
			}, want: "XAmzContentSHA256Mismatch"},
		{name: "trailer checksum wrong", golden: "sigv4 put object unsigned trailer",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				return replaceOnce(t, req, body, "x-amz-checksum-crc32:2R7zhA==", "x-amz-checksum-crc32:AAAAAA==")
			}, want: "BadDigest"},
		{name: "trailer chunk data changed", golden: "sigv4 put object unsigned trailer",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				changed := bytes.Clone(body)
				changed[10] ^= 0xFF
				return setBody(req, changed)
			}, want: "BadDigest"},
		{name: "decoded length header larger", golden: "sigv4 put object unsigned trailer",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.Header.Set("X-Amz-Decoded-Content-Length", "2501")
				return body
			}, want: "SignatureDoesNotMatch"},
		{name: "sigv2 virtual host without bucket", golden: "sigv2 virtual host get", bucket: new(string), want: "SignatureDoesNotMatch"},
		{name: "sigv2 sub-resource changed", golden: "sigv2 get object acl",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.URL.RawQuery = "tagging"
				return body
			}, want: "SignatureDoesNotMatch"},
		{name: "sigv2 unsigned parameter added", golden: "sigv2 get object acl",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.URL.RawQuery = "acl&x-id=GetObjectAcl"
				return body
			}, want: ""},
		{name: "sigv2 signed header changed", golden: "sigv2 put object",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.Header.Set("X-Amz-Meta-Color", "red")
				return body
			}, want: "SignatureDoesNotMatch"},
		{name: "sigv2 content type changed", golden: "sigv2 put object",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.Header.Set("Content-Type", "text/html")
				return body
			}, want: "SignatureDoesNotMatch"},
		{name: "presigned sigv4 get used for put", golden: "presign sigv4 get",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.Method = "PUT"
				return setBody(req, []byte("data"))
			}, want: "SignatureDoesNotMatch"},
		{name: "presigned sigv2 get used for put", golden: "presign default get",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.Method = "PUT"
				return setBody(req, []byte("data"))
			}, want: "SignatureDoesNotMatch"},
		{name: "presigned sigv2 expires changed", golden: "presign default get",
			mutate: func(t *testing.T, req *http.Request, body []byte) []byte {
				req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "Expires=1768482000", "Expires=1768489000", 1)
				return body
			}, want: "SignatureDoesNotMatch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, ok := byName[c.golden]
			if !ok {
				t.Fatalf("no golden case %q", c.golden)
			}
			body := g.bodyBytes(t)
			req := g.request(t, body)
			if c.mutate != nil {
				c.mutate(t, req, body)
			}
			bucket := g.VirtualHostBucket
			if c.bucket != nil {
				bucket = *c.bucket
			}
			got := serve(t, newTestVerifier(now), bucket, req)
			if c.want == "" {
				expectAccepted(t, got)
				return
			}
			expectCode(t, got, c.want)
		})
	}
}

func TestMinioGoGoldenAccepted(t *testing.T) {
	golden := loadGolden(t, "testdata/minio-go.json")
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			now, err := time.Parse(amzDateLayout, c.header("X-Amz-Date"))
			if err != nil {
				t.Fatal(err)
			}
			got := serve(t, newTestVerifier(now), "", c.request(t, c.bodyBytes(t)))
			expectAccepted(t, got)
			if !bytes.Equal(got.body, patternBody(70000)) {
				t.Errorf("decoded body has %d bytes, want the 70000-byte pattern", len(got.body))
			}
			if c.header("X-Amz-Trailer") != "" && got.trailers.Get("X-Amz-Checksum-Crc32c") != "joSRBg==" {
				t.Errorf("trailers = %v", got.trailers)
			}
		})
	}
}

func TestMinioGoGoldenTampered(t *testing.T) {
	golden := loadGolden(t, "testdata/minio-go.json")
	for _, c := range golden.Cases {
		now, _ := time.Parse(amzDateLayout, c.header("X-Amz-Date"))
		body := c.bodyBytes(t)
		mutations := map[string]struct {
			edit func(req *http.Request)
			want string
		}{
			"chunk data changed": {func(req *http.Request) {
				changed := bytes.Clone(body)
				changed[200] ^= 1
				setBody(req, changed)
			}, "SignatureDoesNotMatch"},
			"chunk signature changed": {func(req *http.Request) {
				changed := bytes.Clone(body)
				changed[len("10000;chunk-signature=")] ^= 1
				setBody(req, changed)
			}, "SignatureDoesNotMatch"},
			"body cut short": {func(req *http.Request) {
				setBody(req, body[:len(body)-40])
			}, "IncompleteBody"},
			"decoded length smaller": {func(req *http.Request) {
				req.Header.Set("X-Amz-Decoded-Content-Length", "69999")
			}, "SignatureDoesNotMatch"},
		}
		for name, m := range mutations {
			t.Run(c.Name+"/"+name, func(t *testing.T) {
				req := c.request(t, body)
				m.edit(req)
				expectCode(t, serve(t, newTestVerifier(now), "", req), m.want)
			})
		}
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if strings.Join(a[k], ",") != strings.Join(v, ",") {
			return false
		}
	}
	return true
}

func setBody(req *http.Request, body []byte) []byte {
	req.Body = readCloser(body)
	if req.ContentLength >= 0 {
		req.ContentLength = int64(len(body))
	}
	return body
}

func replaceOnce(t *testing.T, req *http.Request, body []byte, old, replacement string) []byte {
	t.Helper()
	if !bytes.Contains(body, []byte(old)) {
		t.Fatalf("body does not contain %q", old)
	}
	return setBody(req, bytes.Replace(body, []byte(old), []byte(replacement), 1))
}

func readCloser(body []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(body)) }
