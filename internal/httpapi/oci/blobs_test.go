package oci_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
)

func TestBlobMonolithicPushAndPull(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("0123456789")
	d := sha256Digest(data)
	empty := sha256Digest(nil)
	big := []byte(strings.Repeat("sha512 content ", 100))
	d512 := sha512Digest(big)
	s.run(t, []exchange{
		{name: "push", method: http.MethodPost, path: "/v2/blobs/app/blobs/uploads/?digest=" + d, body: data,
			status: http.StatusCreated,
			want:   map[string]string{"Location": "/v2/blobs/app/blobs/" + d, "Docker-Content-Digest": d, "Content-Length": "0"}},
		{name: "head", method: http.MethodHead, path: "/v2/blobs/app/blobs/" + d, status: http.StatusOK, wantBody: []byte{},
			want: map[string]string{"Content-Length": "10", "Docker-Content-Digest": d}},
		{name: "get", method: http.MethodGet, path: "/v2/blobs/app/blobs/" + d, status: http.StatusOK, wantBody: data,
			want: map[string]string{"Content-Length": "10", "Docker-Content-Digest": d, "Content-Range": ""}},
		{name: "push again", method: http.MethodPost, path: "/v2/blobs/app/blobs/uploads/?digest=" + d, body: data,
			status: http.StatusCreated, want: map[string]string{"Docker-Content-Digest": d}},
		{name: "other repository", method: http.MethodGet, path: "/v2/blobs/other/blobs/" + d,
			status: http.StatusNotFound, code: "BLOB_UNKNOWN"},

		{name: "push empty", method: http.MethodPost, path: "/v2/blobs/app/blobs/uploads/?digest=" + empty, body: []byte{},
			status: http.StatusCreated, want: map[string]string{"Docker-Content-Digest": empty}},
		{name: "get empty", method: http.MethodGet, path: "/v2/blobs/app/blobs/" + empty, status: http.StatusOK, wantBody: []byte{},
			want: map[string]string{"Content-Length": "0"}},

		{name: "push sha512", method: http.MethodPost, path: "/v2/blobs/app/blobs/uploads/?digest=" + d512, body: big,
			status: http.StatusCreated,
			want:   map[string]string{"Location": "/v2/blobs/app/blobs/" + d512, "Docker-Content-Digest": d512}},
		{name: "get sha512", method: http.MethodGet, path: "/v2/blobs/app/blobs/" + d512, status: http.StatusOK, wantBody: big,
			want: map[string]string{"Docker-Content-Digest": d512}},
		{name: "sha512 content under its sha256", method: http.MethodHead, path: "/v2/blobs/app/blobs/" + sha256Digest(big),
			status: http.StatusNotFound},
	})
}

func TestBlobPushRejected(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("rejected content")
	md5 := "md5:d41d8cd98f00b204e9800998ecf8427e"
	reject := func(name, query string, status int, code string) exchange {
		return exchange{name: name, method: http.MethodPost, path: "/v2/rejected/blobs/uploads/?" + query, body: data,
			status: status, code: code}
	}
	s.run(t, []exchange{
		reject("wrong digest", "digest="+sha256Digest([]byte("other")), http.StatusBadRequest, "DIGEST_INVALID"),
		reject("sha512 of other content", "digest="+sha512Digest([]byte("other")), http.StatusBadRequest, "DIGEST_INVALID"),
		reject("unsupported algorithm", "digest="+md5, http.StatusBadRequest, "DIGEST_INVALID"),
		reject("short hex", "digest=sha256:abc", http.StatusBadRequest, "DIGEST_INVALID"),
		reject("upper-case hex", "digest="+strings.ToUpper(sha256Digest(data)), http.StatusBadRequest, "DIGEST_INVALID"),
		reject("no algorithm", "digest="+strings.TrimPrefix(sha256Digest(data), "sha256:"), http.StatusBadRequest, "DIGEST_INVALID"),
		reject("sha256 length under sha512", "digest=sha512:"+strings.TrimPrefix(sha256Digest(data), "sha256:"), http.StatusBadRequest, "DIGEST_INVALID"),
		reject("mount of a malformed digest", "mount=sha256:zz&from=rejected/src", http.StatusBadRequest, "DIGEST_INVALID"),

		{name: "not stored", method: http.MethodHead, path: "/v2/rejected/blobs/" + sha256Digest(data), status: http.StatusNotFound},
		{name: "other not stored", method: http.MethodHead, path: "/v2/rejected/blobs/" + sha256Digest([]byte("other")), status: http.StatusNotFound},
	})
	s.checkNoRepository(t, "rejected")
}

func TestBlobMalformedDigestInPath(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	hex := strings.TrimPrefix(sha256Digest([]byte("x")), "sha256:")
	for _, target := range []string{
		"sha256:abc",
		"sha256:" + strings.ToUpper(hex),
		"SHA256:" + hex,
		"sha256:" + hex + "0",
		"sha256",
		"sha256:",
		":" + hex,
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha256+b64:" + hex,
	} {
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			resp := s.do(t, method, "/v2/digests/blobs/"+target, nil, nil)
			label := method + " blob " + target
			checkStatus(t, label, resp, http.StatusBadRequest)
			checkErrorCode(t, label, resp, "DIGEST_INVALID")
		}
		resp := s.do(t, http.MethodHead, "/v2/digests/blobs/"+target, nil, nil)
		checkStatus(t, "HEAD blob "+target, resp, http.StatusBadRequest)
	}
}

func TestBlobRangeRequests(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("0123456789")
	path := "/v2/ranges/blobs/" + s.pushBlob(t, "ranges", data)
	partial := func(name, spec, contentRange, body string) exchange {
		return exchange{name: name, method: http.MethodGet, path: path, header: map[string]string{"Range": spec},
			status: http.StatusPartialContent, wantBody: []byte(body),
			want: map[string]string{"Content-Range": contentRange, "Content-Length": strconv.Itoa(len(body))}}
	}
	unsatisfiable := func(name, spec string) exchange {
		return exchange{name: name, method: http.MethodGet, path: path, header: map[string]string{"Range": spec},
			status: http.StatusRequestedRangeNotSatisfiable, want: map[string]string{"Content-Range": "bytes */10"}}
	}
	s.run(t, []exchange{
		partial("first and last", "bytes=2-5", "bytes 2-5/10", "2345"),
		partial("open end", "bytes=7-", "bytes 7-9/10", "789"),
		partial("suffix", "bytes=-3", "bytes 7-9/10", "789"),
		partial("suffix longer than the blob", "bytes=-100", "bytes 0-9/10", "0123456789"),
		partial("last past the end", "bytes=5-100", "bytes 5-9/10", "56789"),
		partial("single byte", "bytes=9-9", "bytes 9-9/10", "9"),
		partial("whole blob", "bytes=0-9", "bytes 0-9/10", "0123456789"),
		// RFC 9110, section 14.1.2: a last-pos at or past the length
		// selects the rest, however many digits it has.
		partial("last with 20 digits", "bytes=0-99999999999999999999", "bytes 0-9/10", "0123456789"),

		unsatisfiable("first at the end", "bytes=10-"),
		unsatisfiable("first past the end", "bytes=20-30"),
		unsatisfiable("empty suffix", "bytes=-0"),

		{name: "head ignores the range", method: http.MethodHead, path: path, header: map[string]string{"Range": "bytes=2-5"},
			status: http.StatusOK, want: map[string]string{"Content-Length": "10", "Content-Range": ""}},
	})
}

func TestBlobDelete(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("to be deleted")
	d := s.pushBlob(t, "del/app", data)
	s.pushBlob(t, "del/keep", data)
	s.run(t, []exchange{
		{name: "delete", method: http.MethodDelete, path: "/v2/del/app/blobs/" + d, status: http.StatusAccepted},
		{name: "head after delete", method: http.MethodHead, path: "/v2/del/app/blobs/" + d, status: http.StatusNotFound, wantBody: []byte{}},
		{name: "get after delete", method: http.MethodGet, path: "/v2/del/app/blobs/" + d, status: http.StatusNotFound, code: "BLOB_UNKNOWN"},
		{name: "delete again", method: http.MethodDelete, path: "/v2/del/app/blobs/" + d, status: http.StatusNotFound, code: "BLOB_UNKNOWN"},
		{name: "other repository keeps it", method: http.MethodGet, path: "/v2/del/keep/blobs/" + d, status: http.StatusOK, wantBody: data},
		{name: "delete in unknown repository", method: http.MethodDelete, path: "/v2/del/none/blobs/" + d,
			status: http.StatusNotFound, code: "BLOB_UNKNOWN"},
	})
	s.checkNoRepository(t, "del/none")
}

func TestBlobCrossRepositoryMount(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("mounted content")
	d := s.pushBlob(t, "mount/src", data)
	unknown := sha256Digest([]byte("never pushed"))
	s.run(t, []exchange{
		{name: "mount", method: http.MethodPost, path: "/v2/mount/dst/blobs/uploads/?mount=" + d + "&from=mount/src",
			status: http.StatusCreated,
			want:   map[string]string{"Location": "/v2/mount/dst/blobs/" + d, "Docker-Content-Digest": d}},
		{name: "read mounted", method: http.MethodGet, path: "/v2/mount/dst/blobs/" + d, status: http.StatusOK, wantBody: data},
		{name: "mount again", method: http.MethodPost, path: "/v2/mount/dst/blobs/uploads/?mount=" + d + "&from=mount/src",
			status: http.StatusCreated, want: map[string]string{"Docker-Content-Digest": d}},

		{name: "source lacks the blob", method: http.MethodPost, path: "/v2/mount/fallback/blobs/uploads/?mount=" + unknown + "&from=mount/src",
			status: http.StatusAccepted, save: "session",
			want: map[string]string{"Location": "/v2/mount/fallback/blobs/uploads/*", "Docker-Upload-UUID": "*",
				"Range": "0-0", "Docker-Content-Digest": ""}},
		{name: "fallback session is open", method: http.MethodGet, path: "{session}", status: http.StatusNoContent,
			want: map[string]string{"Range": "0-0"}},
		{name: "fallback session completes", method: http.MethodPut, path: "{session}?digest=" + unknown, body: []byte("never pushed"),
			status: http.StatusCreated, want: map[string]string{"Location": "/v2/mount/fallback/blobs/" + unknown}},

		{name: "source repository unknown", method: http.MethodPost, path: "/v2/mount/other/blobs/uploads/?mount=" + d + "&from=mount/none",
			status: http.StatusAccepted, want: map[string]string{"Location": "/v2/mount/other/blobs/uploads/*"}},
		{name: "source name invalid", method: http.MethodPost, path: "/v2/mount/other/blobs/uploads/?mount=" + d + "&from=Mount/..",
			status: http.StatusAccepted, want: map[string]string{"Location": "/v2/mount/other/blobs/uploads/*"}},
		{name: "nothing mounted", method: http.MethodHead, path: "/v2/mount/other/blobs/" + d, status: http.StatusNotFound},

		{name: "delete source", method: http.MethodDelete, path: "/v2/mount/src/blobs/" + d, status: http.StatusAccepted},
		{name: "mount survives", method: http.MethodGet, path: "/v2/mount/dst/blobs/" + d, status: http.StatusOK, wantBody: data},
	})
	s.checkNoRepository(t, "mount/other")
}

// TestBlobAnonymousMount checks a mount without from, which takes the blob
// from any repository that holds it.
func TestBlobAnonymousMount(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("anonymously mounted")
	d := s.pushBlob(t, "anon/src", data)
	deleted := s.pushBlob(t, "anon/gone", []byte("deleted everywhere"))
	s.checkStatusOf(t, http.MethodDelete, "/v2/anon/gone/blobs/"+deleted, http.StatusAccepted)
	s.run(t, []exchange{
		{name: "mount without from", method: http.MethodPost, path: "/v2/anon/dst/blobs/uploads/?mount=" + d,
			status: http.StatusCreated, want: map[string]string{"Location": "/v2/anon/dst/blobs/" + d, "Docker-Content-Digest": d}},
		{name: "read mounted", method: http.MethodGet, path: "/v2/anon/dst/blobs/" + d, status: http.StatusOK, wantBody: data},
		{name: "unknown blob falls back", method: http.MethodPost,
			path:   "/v2/anon/fallback/blobs/uploads/?mount=" + sha256Digest([]byte("nowhere")),
			status: http.StatusAccepted, want: map[string]string{"Location": "/v2/anon/fallback/blobs/uploads/*"}},
		// No repository holds a blob that was deleted from the only one
		// that had it, so there is nothing to mount.
		{name: "blob deleted everywhere falls back", method: http.MethodPost, path: "/v2/anon/revived/blobs/uploads/?mount=" + deleted,
			status: http.StatusAccepted, want: map[string]string{"Location": "/v2/anon/revived/blobs/uploads/*"}},
		{name: "deleted blob not revived", method: http.MethodHead, path: "/v2/anon/revived/blobs/" + deleted,
			status: http.StatusNotFound},
	})
	s.checkNoRepository(t, "anon/fallback")
	s.checkNoRepository(t, "anon/revived")
}

// TestBlobCorruptContentIsNeverServed overwrites a stored blob and checks
// that a GET never completes with the wrong bytes: the server aborts the
// response instead.
func TestBlobCorruptContentIsNeverServed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("content that will rot in storage")
	d := s.pushBlob(t, "corrupt", data)
	parsed, err := digest.Parse(d)
	if err != nil {
		t.Fatalf("parse %s: %v", d, err)
	}
	w, err := s.driver.Writer(t.Context(), blob.Key(parsed), 0)
	if err != nil {
		t.Fatalf("open stored blob: %v", err)
	}
	if _, err := w.Write(bytes.ToUpper(data)); err != nil {
		t.Fatalf("corrupt stored blob: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("commit corrupt blob: %v", err)
	}

	// A new connection for each request, so that the client never retries
	// on a reused connection and each GET reads the blob once.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, spec := range []string{"", "bytes=0-4", "bytes=-4"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/v2/corrupt/blobs/"+d, nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.SetBasicAuth(testUser, testPassword)
		if spec != "" {
			req.Header.Set("Range", spec)
		}
		resp, err := client.Do(req)
		if err != nil {
			continue // aborted before the headers went out
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("GET %q of a corrupt blob completed with %d: %q", spec, resp.StatusCode, body)
		}
	}
	if n := s.blobs.CorruptReads(); n != 3 {
		t.Errorf("CorruptReads = %d, want 3", n)
	}
}
