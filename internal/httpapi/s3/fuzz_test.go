package s3_test

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDeleteObjectsXML sends arbitrary bodies to the two handlers that
// parse XML documents from clients, DeleteObjects and
// CompleteMultipartUpload, and checks that none produces a 5xx. In a
// CompleteMultipartUpload body, "{etag}" stands for the ETag of the part
// uploaded for that input, so that seeds can reach the part checks.
func FuzzDeleteObjectsXML(f *testing.F) {
	handler, _, _ := newHandler(f)
	serve := func(tb testing.TB, method, target string, body []byte) *httptest.ResponseRecorder {
		tb.Helper()
		req := httptest.NewRequestWithContext(tb.Context(), method, target, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec
	}
	if rec := serve(f, http.MethodPut, "/fuzz", nil); rec.Code != http.StatusOK {
		f.Fatalf("create bucket = %d: %s", rec.Code, rec.Body)
	}

	seeds := []string{
		`<Delete><Object><Key>a</Key></Object></Delete>`,
		`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a</Key><VersionId>null</VersionId></Object><Object><Key>b/c</Key></Object></Delete>`,
		`<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>`,
		`<Delete><Object><Key></Key></Object></Delete>`,
		`<Delete><Object><Key>` + strings.Repeat("k", 1025) + `</Key></Object></Delete>`,
		`<Delete><Object><Key>&#0;</Key></Object></Delete>`,
		`<Delete><Object><Key>&#xD800;</Key></Object></Delete>`,
		"<Delete><Object><Key>\xff\xfe</Key></Object></Delete>",
		`<!DOCTYPE Delete [<!ENTITY x "expanded">]><Delete><Object><Key>&x;</Key></Object></Delete>`,
		`<?xml version="1.0" encoding="UTF-16"?><Delete/>`,
		"\xef\xbb\xbf<Delete><Object><Key>bom</Key></Object></Delete>",
		`<Delete><Object><Key>a</Key></Object></Delete><Delete/>`,
		`<Delete><Object><Object><Key>nested</Key></Object></Object></Delete>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"{etag}"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;{etag}-1&#34;</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload></CompleteMultipartUpload>`,
		``,
		`<`,
		`not xml at all`,
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		if rec := serve(t, http.MethodPut, "/fuzz/a", []byte("x")); rec.Code != http.StatusOK {
			t.Fatalf("put object = %d: %s", rec.Code, rec.Body)
		}
		if rec := serve(t, http.MethodPost, "/fuzz?delete", body); rec.Code >= 500 {
			t.Errorf("DeleteObjects with body %q = %d: %s", body, rec.Code, rec.Body)
		}

		rec := serve(t, http.MethodPost, "/fuzz/k?uploads", nil)
		var initiated struct {
			UploadID string `xml:"UploadId"`
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &initiated); rec.Code != http.StatusOK || err != nil {
			t.Fatalf("create multipart upload = %d, %v: %s", rec.Code, err, rec.Body)
		}
		target := "/fuzz/k?uploadId=" + initiated.UploadID
		rec = serve(t, http.MethodPut, "/fuzz/k?partNumber=1&uploadId="+initiated.UploadID, []byte("part"))
		if rec.Code != http.StatusOK {
			t.Fatalf("upload part = %d: %s", rec.Code, rec.Body)
		}
		etag := strings.Trim(rec.Header().Get("ETag"), `"`)
		document := bytes.ReplaceAll(body, []byte("{etag}"), []byte(etag))
		if rec := serve(t, http.MethodPost, target, document); rec.Code >= 500 {
			t.Errorf("CompleteMultipartUpload with body %q = %d: %s", document, rec.Code, rec.Body)
		}
		if rec := serve(t, http.MethodDelete, target, nil); rec.Code >= 500 {
			t.Errorf("abort after the completion attempt = %d: %s", rec.Code, rec.Body)
		}
	})
}
