package client

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// PutOptions configures [Client.PutObject].
type PutOptions struct {
	// Size is the body's length in bytes. Zero means unknown, unless the
	// body is an io.Seeker, whose length is then measured.
	Size int64
	// ContentType is stored with the object. Empty stores none, and reads
	// return application/octet-stream.
	ContentType string
	// Digest is the SHA-256 digest the content must have, "sha256:<hex>".
	// Empty computes it while streaming; either way the server stores the
	// object only if the bytes it received have that digest.
	Digest string
	// SessionID continues the resumable upload session of an earlier,
	// interrupted call (see OnSession), from the offset the server reports.
	// A session that no longer exists starts a new one. Empty starts a new
	// session when one is used.
	SessionID string
	// OnSession, when not nil, is called with the ID of the resumable
	// upload session before any content is sent, so a caller can keep it
	// and pass it as SessionID after a crash.
	OnSession func(id string)
	// Progress, when not nil, is called with the number of bytes of the
	// body the server holds or is receiving. It may go back after a chunk
	// is sent again.
	Progress func(transferred int64)
}

// PutObject stores body as an object and returns its description.
//
// A body that can be read again (an io.ReaderAt or io.Seeker of known
// size, such as an *os.File) goes through a resumable upload session in
// chunks when it is larger than the client's chunk size. When a chunk
// fails, the client reads the session's offset from the server and
// continues there. Any other body goes in one streamed request, which is
// retried only when it can be read again.
func (c *Client) PutObject(ctx context.Context, bucket, key string, body io.Reader, opts PutOptions) (Object, error) {
	src, size, seekable := readerAt(body, opts.Size)
	if seekable && (size > c.chunkSize || opts.SessionID != "" || opts.OnSession != nil) {
		return c.putSession(ctx, bucket, key, src, size, opts)
	}
	return c.putSingle(ctx, bucket, key, body, src, size, opts)
}

// readerAt returns body as an io.ReaderAt with its size when body can be
// read again from any offset.
func readerAt(body io.Reader, size int64) (io.ReaderAt, int64, bool) {
	if seeker, ok := body.(io.Seeker); ok && size <= 0 {
		start, err1 := seeker.Seek(0, io.SeekCurrent)
		end, err2 := seeker.Seek(0, io.SeekEnd)
		_, err3 := seeker.Seek(start, io.SeekStart)
		if err1 != nil || err2 != nil || err3 != nil || start != 0 {
			return nil, 0, false
		}
		size = end
	}
	if at, ok := body.(io.ReaderAt); ok && size > 0 {
		return at, size, true
	}
	if seeker, ok := body.(io.ReadSeeker); ok && size > 0 {
		return &seekerAt{ReadSeeker: seeker}, size, true
	}
	return nil, size, false
}

// seekerAt reads an io.ReadSeeker at offsets. It is used by one
// goroutine at a time.
type seekerAt struct{ io.ReadSeeker }

func (s *seekerAt) ReadAt(p []byte, off int64) (int, error) {
	if _, err := s.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s, p)
}

// putSingle sends the whole body in one PUT.
func (c *Client) putSingle(ctx context.Context, bucket, key string, body io.Reader, src io.ReaderAt, size int64, opts PutOptions) (Object, error) {
	h := sha256.New()
	req := request{method: http.MethodPut, path: objectPath(bucket, key), header: http.Header{}, length: -1}
	if size > 0 {
		req.length = size
	}
	req.body = onceBody(&progressReader{r: io.TeeReader(body, h), report: opts.Progress})
	if src != nil {
		req.body = func() (io.Reader, error) {
			h.Reset()
			return &progressReader{r: io.TeeReader(io.NewSectionReader(src, 0, size), h), report: opts.Progress}, nil
		}
	}
	req.retryable = src != nil
	if opts.ContentType != "" {
		req.header.Set("Content-Type", opts.ContentType)
	}
	if opts.Digest != "" {
		req.header.Set("Coffer-Expected-Digest", opts.Digest)
	}
	o, err := c.decodeObject(ctx, req)
	if err != nil {
		return Object{}, fmt.Errorf("put object %s/%s: %w", bucket, key, err)
	}
	if sent := sha256Digest(h); o.Digest != sent {
		return Object{}, &IntegrityError{What: "object " + bucket + "/" + key, Expected: sent, Actual: o.Digest}
	}
	return o, nil
}

func (c *Client) decodeObject(ctx context.Context, req request) (Object, error) {
	resp, err := c.do(ctx, req)
	if err != nil {
		return Object{}, err
	}
	defer drain(resp)
	var o Object
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		return Object{}, fmt.Errorf("decode the stored object: %w", err)
	}
	return o, nil
}

// session is the JSON form of an upload session.
type session struct {
	ID     string `json:"id"`
	Offset int64  `json:"offset"`
}

// onceBody returns a request body function for a body that can be read
// only once: a retry that needs it again fails instead of sending a
// truncated body.
func onceBody(r io.Reader) func() (io.Reader, error) {
	used := false
	return func() (io.Reader, error) {
		if used {
			return nil, errors.New("the body cannot be read again for a retry")
		}
		used = true
		return r, nil
	}
}

// putSession uploads src through a resumable upload session.
func (c *Client) putSession(ctx context.Context, bucket, key string, src io.ReaderAt, size int64, opts PutOptions) (Object, error) {
	what := "object " + bucket + "/" + key
	id, offset, err := c.openSession(ctx, bucket, key, opts.SessionID)
	if err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", what, err)
	}
	if opts.OnSession != nil {
		opts.OnSession(id)
	}
	up := &chunkedUpload{
		c: c, src: src, size: size, progress: opts.Progress, h: sha256.New(),
		chunk: func(first, n int64) request {
			return request{
				method: http.MethodPatch, path: "/api/v1/uploads/" + url.PathEscape(id),
				header: http.Header{"Content-Range": {fmt.Sprintf("bytes %d-%d/*", first, first+n-1)}},
			}
		},
		status: func(ctx context.Context) (int64, error) { return c.sessionOffset(ctx, id) },
	}
	if err := up.hashTo(offset); err != nil {
		return Object{}, fmt.Errorf("upload %s: %w", what, err)
	}
	if err := up.run(ctx); err != nil {
		return Object{}, fmt.Errorf("upload %s in session %s: %w", what, id, err)
	}
	sent := sha256Digest(up.h)
	if opts.Digest != "" && opts.Digest != sent {
		return Object{}, &IntegrityError{What: what + " (the source changed during the upload)", Expected: opts.Digest, Actual: sent}
	}
	o, err := c.completeSession(ctx, bucket, key, id, sent, opts.ContentType)
	if err != nil {
		return Object{}, fmt.Errorf("upload %s: complete session %s: %w", what, id, err)
	}
	return o, nil
}

// openSession continues session id when the server still has it, or
// starts a new session.
func (c *Client) openSession(ctx context.Context, bucket, key, id string) (string, int64, error) {
	if id != "" {
		offset, err := c.sessionOffset(ctx, id)
		if err == nil {
			return id, offset, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return "", 0, err
		}
	}
	var s session
	path := "/api/v1/buckets/" + url.PathEscape(bucket) + "/uploads"
	if err := c.callJSON(ctx, http.MethodPost, path, nil, map[string]string{"key": key}, &s); err != nil {
		return "", 0, fmt.Errorf("start upload session: %w", err)
	}
	return s.ID, s.Offset, nil
}

// sessionOffset returns the bytes an upload session holds durably.
func (c *Client) sessionOffset(ctx context.Context, id string) (int64, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: "/api/v1/uploads/" + url.PathEscape(id)})
	if err != nil {
		return 0, err
	}
	drain(resp)
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		return 0, fmt.Errorf("upload session %s: invalid Upload-Offset %q", id, resp.Header.Get("Upload-Offset"))
	}
	return offset, nil
}

// completeSession stores the session's bytes as the object. When the
// response to an earlier attempt was lost, the session is gone; the
// object is then accepted if it has the digest.
func (c *Client) completeSession(ctx context.Context, bucket, key, id, digest, contentType string) (Object, error) {
	req := request{
		method: http.MethodPut, path: "/api/v1/uploads/" + url.PathEscape(id),
		query: url.Values{"digest": {digest}}, header: http.Header{},
	}
	if contentType != "" {
		req.header.Set("Content-Type", contentType)
	}
	o, err := c.decodeObject(ctx, req)
	if errors.Is(err, ErrNotFound) {
		if stored, statErr := c.StatObject(ctx, bucket, key); statErr == nil && stored.Digest == digest {
			return stored, nil
		}
	}
	return o, err
}

// CancelUpload cancels a resumable upload session and frees its bytes.
func (c *Client) CancelUpload(ctx context.Context, sessionID string) error {
	return c.callJSON(ctx, http.MethodDelete, "/api/v1/uploads/"+url.PathEscape(sessionID), nil, nil, nil)
}

// chunkedUpload sends src to an upload session chunk by chunk, for the
// native API and the OCI API alike. h holds the SHA-256 of src[0:offset].
type chunkedUpload struct {
	c *Client
	// chunk returns the request, without its body, that appends n bytes at
	// first.
	chunk func(first, n int64) request
	// status returns the bytes the session holds.
	status   func(ctx context.Context) (int64, error)
	src      io.ReaderAt
	size     int64
	offset   int64
	h        hash.Hash
	progress func(int64)
}

// run sends the chunks from offset to the end. After a failed chunk it
// reads the session's offset from the server and continues there. It gives
// up after the client's MaxAttempts failures in a row without progress.
func (u *chunkedUpload) run(ctx context.Context) error {
	failures := 0
	for u.offset < u.size {
		n := min(u.c.chunkSize, u.size-u.offset)
		start := u.offset
		err := u.sendChunk(ctx, n)
		if err == nil {
			u.offset += n
			failures = 0
			continue
		}
		if ctx.Err() != nil || !resumable(err) {
			return err
		}
		failures++
		if failures >= u.c.retry.MaxAttempts {
			return err
		}
		offset, statErr := u.status(ctx)
		if statErr != nil {
			return errors.Join(err, statErr)
		}
		if err := u.restart(start, offset); err != nil {
			return err
		}
		if offset > start {
			failures = 0
		}
	}
	return nil
}

// sendChunk sends n bytes from offset and adds them to h once the server
// has them.
func (u *chunkedUpload) sendChunk(ctx context.Context, n int64) error {
	state, err := marshalHash(u.h)
	if err != nil {
		return err
	}
	first := u.offset
	req := u.chunk(first, n)
	req.length, req.retryable = n, true
	req.body = func() (io.Reader, error) {
		if err := unmarshalHash(u.h, state); err != nil {
			return nil, err
		}
		section := io.NewSectionReader(u.src, first, n)
		return &progressReader{r: io.TeeReader(section, u.h), done: first, report: u.progress}, nil
	}
	resp, err := u.c.do(ctx, req)
	if err != nil {
		_ = unmarshalHash(u.h, state)
		return err
	}
	drain(resp)
	return nil
}

// restart sets h and offset for a session that holds offset bytes, after
// a chunk that started at start failed. h then holds src[0:start].
func (u *chunkedUpload) restart(start, offset int64) error {
	if offset >= start {
		u.offset = start
		return u.hashTo(offset)
	}
	u.h.Reset()
	u.offset = 0
	return u.hashTo(offset)
}

// hashTo adds src[u.offset:offset] to h and moves the offset there.
func (u *chunkedUpload) hashTo(offset int64) error {
	if offset > u.size {
		return fmt.Errorf("invalid upload session: the server holds %d bytes, more than the %d of the source; cancel the session and upload again", offset, u.size)
	}
	if _, err := io.Copy(u.h, io.NewSectionReader(u.src, u.offset, offset-u.offset)); err != nil {
		return fmt.Errorf("read the source to resume at offset %d: %w", offset, err)
	}
	u.offset = offset
	if u.progress != nil {
		u.progress(offset)
	}
	return nil
}

// resumable reports whether a failed chunk is worth asking the session's
// offset for: the offset did not match (409 on the native API, 416 on the
// OCI API), the body did not arrive whole, or the server was unavailable.
func resumable(err error) bool {
	return errors.Is(err, ErrConflict) || errors.Is(err, ErrRangeNotSatisfiable) ||
		errors.Is(err, ErrUnavailable) || errors.Is(err, ErrIntegrity)
}

func marshalHash(h hash.Hash) ([]byte, error) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, errors.New("the hash cannot save its state")
	}
	return m.MarshalBinary()
}

func unmarshalHash(h hash.Hash, state []byte) error {
	return h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state)
}

// sha256Digest formats h's sum as "sha256:<hex>".
func sha256Digest(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

// progressReader reports the bytes read through it, counting from done.
type progressReader struct {
	r      io.Reader
	done   int64
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.report != nil && n > 0 {
		p.report(p.done)
	}
	return n, err
}
