package oci_test

import (
	"net/http"
	"testing"
)

func TestUploadPostThenPut(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("posted then put")
	d := sha256Digest(data)
	s.run(t, []exchange{
		{name: "start", method: http.MethodPost, path: "/v2/up/app/blobs/uploads/", status: http.StatusAccepted, save: "session",
			want: map[string]string{"Location": "/v2/up/app/blobs/uploads/*", "Range": "0-0", "Docker-Upload-UUID": "*",
				"Content-Length": "0"}},
		{name: "session UUID is the last path segment", method: http.MethodGet, path: "{session}", status: http.StatusNoContent,
			want: map[string]string{"Docker-Upload-UUID": "{session.id}", "Location": "{session}"}},
		{name: "start does not create the repository", method: http.MethodGet, path: "/v2/up/app/tags/list",
			status: http.StatusNotFound, code: "NAME_UNKNOWN"},
		{name: "complete", method: http.MethodPut, path: "{session}?digest=" + d, body: data,
			header: map[string]string{"Content-Type": "application/octet-stream"},
			status: http.StatusCreated,
			want:   map[string]string{"Location": "/v2/up/app/blobs/" + d, "Docker-Content-Digest": d}},
		{name: "stored", method: http.MethodGet, path: "/v2/up/app/blobs/" + d, status: http.StatusOK, wantBody: data},
		{name: "session closed", method: http.MethodGet, path: "{session}", status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "complete again", method: http.MethodPut, path: "{session}?digest=" + d, body: data,
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
	})
}

func TestUploadChunked(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	all := []byte("0123456789ab")
	d := sha256Digest(all)
	// chunk sends one PATCH. An empty wantRange leaves the Range header unchecked.
	chunk := func(name, contentRange, body string, status int, code, wantRange string) exchange {
		row := exchange{name: name, method: http.MethodPatch, path: "{session}", body: []byte(body),
			header: map[string]string{"Content-Range": contentRange, "Content-Type": "application/octet-stream"},
			status: status, code: code}
		if wantRange != "" {
			row.want = map[string]string{"Range": wantRange}
		}
		return row
	}
	s.run(t, []exchange{
		{name: "start", method: http.MethodPost, path: "/v2/chunks/blobs/uploads/", status: http.StatusAccepted, save: "session"},
		chunk("first chunk", "0-4", "01234", http.StatusAccepted, "", "0-4"),
		{name: "status", method: http.MethodGet, path: "{session}", status: http.StatusNoContent,
			want: map[string]string{"Range": "0-4", "Location": "{session}"}},
		chunk("out of order", "10-14", "abcde", http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "0-4"),
		chunk("overlapping", "3-7", "34567", http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "0-4"),
		chunk("repeated first chunk", "0-4", "01234", http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "0-4"),
		chunk("malformed range", "five-nine", "56789", http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "0-4"),
		chunk("length disagrees with range", "5-9", "567", http.StatusBadRequest, "SIZE_INVALID", ""),
		{name: "offset unchanged", method: http.MethodGet, path: "{session}", status: http.StatusNoContent,
			want: map[string]string{"Range": "0-4"}},
		chunk("second chunk", "5-9", "56789", http.StatusAccepted, "", "0-9"),
		{name: "chunk without range", method: http.MethodPatch, path: "{session}", body: []byte("ab"),
			status: http.StatusAccepted, want: map[string]string{"Range": "0-11", "Location": "{session}"}},
		{name: "status after chunks", method: http.MethodGet, path: "{session}", status: http.StatusNoContent,
			want: map[string]string{"Range": "0-11"}},
		{name: "close with wrong range", method: http.MethodPut, path: "{session}?digest=" + d, body: []byte("x"),
			header: map[string]string{"Content-Range": "5-5"},
			status: http.StatusRequestedRangeNotSatisfiable, code: "BLOB_UPLOAD_INVALID", want: map[string]string{"Range": "0-11"}},
		{name: "close", method: http.MethodPut, path: "{session}?digest=" + d, status: http.StatusCreated,
			want: map[string]string{"Location": "/v2/chunks/blobs/" + d, "Docker-Content-Digest": d}},
		{name: "stored", method: http.MethodGet, path: "/v2/chunks/blobs/" + d, status: http.StatusOK, wantBody: all},
		{name: "session closed", method: http.MethodGet, path: "{session}", status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
	})
}

func TestUploadChunkedWithFinalChunk(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	all := []byte("first part, last part")
	d := sha256Digest(all)
	s.run(t, []exchange{
		{name: "start", method: http.MethodPost, path: "/v2/final/blobs/uploads", status: http.StatusAccepted, save: "session"},
		{name: "chunk", method: http.MethodPatch, path: "{session}", body: all[:12],
			header: map[string]string{"Content-Range": "0-11"}, status: http.StatusAccepted, want: map[string]string{"Range": "0-11"}},
		{name: "close with the final chunk", method: http.MethodPut, path: "{session}?digest=" + d, body: all[12:],
			header: map[string]string{"Content-Range": "12-20"}, status: http.StatusCreated,
			want: map[string]string{"Docker-Content-Digest": d}},
		{name: "stored", method: http.MethodGet, path: "/v2/final/blobs/" + d, status: http.StatusOK, wantBody: all},
	})
}

func TestUploadSHA512Chunked(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	all := []byte("a blob addressed by its SHA-512 digest")
	d := sha512Digest(all)
	s.run(t, []exchange{
		{name: "start", method: http.MethodPost, path: "/v2/sha512/blobs/uploads/", status: http.StatusAccepted, save: "session"},
		{name: "first chunk", method: http.MethodPatch, path: "{session}", body: all[:10],
			header: map[string]string{"Content-Range": "0-9"}, status: http.StatusAccepted, want: map[string]string{"Range": "0-9"}},
		{name: "second chunk", method: http.MethodPatch, path: "{session}", body: all[10:],
			header: map[string]string{"Content-Range": "10-37"}, status: http.StatusAccepted, want: map[string]string{"Range": "0-37"}},
		{name: "close", method: http.MethodPut, path: "{session}?digest=" + d, status: http.StatusCreated,
			want: map[string]string{"Location": "/v2/sha512/blobs/" + d, "Docker-Content-Digest": d}},
		{name: "get", method: http.MethodGet, path: "/v2/sha512/blobs/" + d, status: http.StatusOK, wantBody: all,
			want: map[string]string{"Docker-Content-Digest": d}},
		{name: "range", method: http.MethodGet, path: "/v2/sha512/blobs/" + d, header: map[string]string{"Range": "bytes=2-6"},
			status: http.StatusPartialContent, wantBody: all[2:7]},
	})
}

func TestUploadCloseRejected(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("hello")
	other := sha256Digest([]byte("other"))
	s.run(t, []exchange{
		{name: "start", method: http.MethodPost, path: "/v2/badput/blobs/uploads/", status: http.StatusAccepted, save: "session"},
		{name: "chunk", method: http.MethodPatch, path: "{session}", body: data, status: http.StatusAccepted},
		{name: "no digest", method: http.MethodPut, path: "{session}", status: http.StatusBadRequest, code: "DIGEST_INVALID"},
		{name: "malformed digest", method: http.MethodPut, path: "{session}?digest=sha256:abc", status: http.StatusBadRequest, code: "DIGEST_INVALID"},
		{name: "unsupported algorithm", method: http.MethodPut, path: "{session}?digest=md5:5d41402abc4b2a76b9719d911017c592",
			status: http.StatusBadRequest, code: "DIGEST_INVALID"},
		{name: "still open", method: http.MethodGet, path: "{session}", status: http.StatusNoContent, want: map[string]string{"Range": "0-4"}},
		{name: "wrong digest", method: http.MethodPut, path: "{session}?digest=" + other, status: http.StatusBadRequest, code: "DIGEST_INVALID"},
		{name: "content not stored", method: http.MethodHead, path: "/v2/badput/blobs/" + sha256Digest(data), status: http.StatusNotFound},
		{name: "claimed digest not stored", method: http.MethodHead, path: "/v2/badput/blobs/" + other, status: http.StatusNotFound},
	})
	s.checkNoRepository(t, "badput")
}

func TestUploadCancel(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.run(t, []exchange{
		{name: "start", method: http.MethodPost, path: "/v2/cancel/blobs/uploads/", status: http.StatusAccepted, save: "session"},
		{name: "chunk", method: http.MethodPatch, path: "{session}", body: []byte("abc"), status: http.StatusAccepted},
		{name: "cancel", method: http.MethodDelete, path: "{session}", status: http.StatusNoContent},
		{name: "status after cancel", method: http.MethodGet, path: "{session}", status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "chunk after cancel", method: http.MethodPatch, path: "{session}", body: []byte("d"),
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "close after cancel", method: http.MethodPut, path: "{session}?digest=" + sha256Digest([]byte("abc")),
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "cancel again", method: http.MethodDelete, path: "{session}", status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "unknown session", method: http.MethodGet, path: "/v2/cancel/blobs/uploads/0123456789abcdef",
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
	})
	s.checkNoRepository(t, "cancel")
}

func TestUploadSessionBelongsToItsRepository(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("owned by one repository")
	d := sha256Digest(data)
	s.run(t, []exchange{
		{name: "start in a", method: http.MethodPost, path: "/v2/owner/a/blobs/uploads/", status: http.StatusAccepted, save: "a"},
		{name: "status through b", method: http.MethodGet, path: "/v2/owner/b/blobs/uploads/{a.id}",
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "chunk through b", method: http.MethodPatch, path: "/v2/owner/b/blobs/uploads/{a.id}", body: data,
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "close through b", method: http.MethodPut, path: "/v2/owner/b/blobs/uploads/{a.id}?digest=" + d, body: data,
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "cancel through b", method: http.MethodDelete, path: "/v2/owner/b/blobs/uploads/{a.id}",
			status: http.StatusNotFound, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "a untouched", method: http.MethodGet, path: "{a}", status: http.StatusNoContent, want: map[string]string{"Range": "0-0"}},
		{name: "not in b", method: http.MethodHead, path: "/v2/owner/b/blobs/" + d, status: http.StatusNotFound},
	})
	s.checkNoRepository(t, "owner/b")
}

// TestUploadBodyLengthMismatch sends bodies shorter or longer than their
// Content-Length on raw connections, because net/http refuses to send
// them. A short body ends when the client closes its side, as when a
// client disconnects mid-upload. Nothing of a short body may be stored.
func TestUploadBodyLengthMismatch(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	data := []byte("0123456789")
	d := sha256Digest(data)

	t.Run("short monolithic body", func(t *testing.T) {
		resp := s.raw(t, rawRequest(http.MethodPost, "/v2/raw/mono/blobs/uploads/?digest="+d, 20, nil, data), true)
		checkRawError(t, resp, http.StatusBadRequest, "SIZE_INVALID")
		s.checkStatusOf(t, http.MethodHead, "/v2/raw/mono/blobs/"+d, http.StatusNotFound)
		s.checkNoRepository(t, "raw/mono")
	})

	t.Run("long monolithic body", func(t *testing.T) {
		// The server reads Content-Length bytes, which hash to another digest.
		resp := s.raw(t, rawRequest(http.MethodPost, "/v2/raw/long/blobs/uploads/?digest="+d, 5, nil, data), false)
		checkRawError(t, resp, http.StatusBadRequest, "DIGEST_INVALID")
		s.checkStatusOf(t, http.MethodHead, "/v2/raw/long/blobs/"+d, http.StatusNotFound)
		s.checkStatusOf(t, http.MethodHead, "/v2/raw/long/blobs/"+sha256Digest(data[:5]), http.StatusNotFound)
		s.checkNoRepository(t, "raw/long")
	})

	session := s.do(t, http.MethodPost, "/v2/raw/chunks/blobs/uploads/", nil, nil).header.Get("Location")
	first := s.do(t, http.MethodPatch, session, map[string]string{"Content-Range": "0-4"}, data[:5])
	checkStatus(t, "first chunk", first, http.StatusAccepted)

	t.Run("short chunk with range", func(t *testing.T) {
		request := rawRequest(http.MethodPatch, session, 10, map[string]string{"Content-Range": "5-14"}, data[5:])
		checkRawError(t, s.raw(t, request, true), http.StatusBadRequest, "SIZE_INVALID")
		checkOffset(t, s, session, "0-4")
	})

	t.Run("short chunk without range", func(t *testing.T) {
		request := rawRequest(http.MethodPatch, session, 10, nil, data[5:])
		checkRawError(t, s.raw(t, request, true), http.StatusBadRequest, "SIZE_INVALID")
		checkOffset(t, s, session, "0-4")
	})

	t.Run("short final chunk", func(t *testing.T) {
		request := rawRequest(http.MethodPut, session+"?digest="+d, 10, nil, data[5:])
		checkRawError(t, s.raw(t, request, true), http.StatusBadRequest, "SIZE_INVALID")
		checkOffset(t, s, session, "0-4")
		s.checkStatusOf(t, http.MethodHead, "/v2/raw/chunks/blobs/"+d, http.StatusNotFound)
	})

	t.Run("long chunk keeps only Content-Length bytes", func(t *testing.T) {
		request := rawRequest(http.MethodPatch, session, 2, map[string]string{"Content-Range": "5-6"}, data[5:])
		resp := s.raw(t, request, false)
		if resp == nil {
			t.Fatal("no response to a chunk with extra bytes after its body")
		}
		checkStatus(t, "long chunk", *resp, http.StatusAccepted)
		checkHeader(t, "long chunk", resp.header, "Range", "0-6")
		checkOffset(t, s, session, "0-6")
	})
	s.checkNoRepository(t, "raw/chunks")
}

func checkRawError(t *testing.T, resp *response, status int, code string) {
	t.Helper()
	if resp == nil {
		t.Errorf("no response, want %d %s", status, code)
		return
	}
	checkStatus(t, "raw request", *resp, status)
	checkErrorCode(t, "raw request", *resp, code)
}

// checkOffset checks the Range that the upload status reports.
func checkOffset(t *testing.T, s *testServer, session, want string) {
	t.Helper()
	resp := s.do(t, http.MethodGet, session, nil, nil)
	checkStatus(t, "upload status", resp, http.StatusNoContent)
	checkHeader(t, "upload status", resp.header, "Range", want)
}
