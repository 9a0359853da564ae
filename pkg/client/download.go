package client

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// GetOptions configures [Client.GetObject].
type GetOptions struct {
	// Offset is the first byte to read. Zero reads from the start.
	Offset int64
	// Length is the number of bytes to read from Offset. Zero reads to the
	// end. A reader with Length set reads only part of the content, so it
	// checks neither the digest nor PrefixHash. The caller checks the whole.
	Length int64
	// IfMatch is the digest the object must have, "sha256:<hex>"; another
	// version gives [ErrPreconditionFailed]. Empty accepts the current
	// version, and later resumes of the same reader pin it.
	IfMatch string
	// PrefixHash, with Offset > 0, is a SHA-256 hash already fed with the
	// object's first Offset bytes, so that the reader can check the digest
	// of the whole object. Nil with Offset > 0 skips the check; with Offset
	// zero the reader always checks.
	PrefixHash hash.Hash
	// Progress, when not nil, is called with the offset reached after every
	// read.
	Progress func(offset int64)
}

// ObjectReader reads an object's content. When the connection breaks, it
// sends a new request from the offset it reached, with If-Match set to the
// digest, so it never mixes two versions. At the end it checks the SHA-256
// digest and the size, and Read returns an error wrapping [ErrIntegrity]
// instead of io.EOF on a mismatch.
type ObjectReader struct {
	c        *Client
	ctx      context.Context
	info     Object
	body     io.ReadCloser
	offset   int64
	end      int64     // offset after the last byte to read, or 0 for the end
	h        hash.Hash // nil when the digest is not checked
	progress func(int64)
	failures int
	err      error
	// blobPath is the path of an OCI blob, or empty for an object.
	blobPath string
}

// GetObject opens an object for reading. The caller must close the reader.
func (c *Client) GetObject(ctx context.Context, bucket, key string, opts GetOptions) (*ObjectReader, error) {
	if opts.Offset < 0 || opts.Length < 0 {
		return nil, fmt.Errorf("get object %s/%s: invalid range: offset %d, length %d", bucket, key, opts.Offset, opts.Length)
	}
	r := &ObjectReader{c: c, ctx: ctx, offset: opts.Offset, progress: opts.Progress}
	r.info = Object{Bucket: bucket, Key: key, Digest: opts.IfMatch}
	switch {
	case opts.Length > 0:
		r.end = opts.Offset + opts.Length
	case opts.Offset == 0:
		r.h = sha256.New()
	case opts.PrefixHash != nil:
		r.h = opts.PrefixHash
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// Info returns the object's description from the response headers.
func (r *ObjectReader) Info() Object { return r.info }

// open sends a GET from r.offset.
func (r *ObjectReader) open() error {
	req := request{method: http.MethodGet, path: r.blobPath, header: http.Header{}}
	if req.path == "" {
		req.path = objectPath(r.info.Bucket, r.info.Key)
	}
	switch {
	case r.end > 0:
		req.header.Set("Range", fmt.Sprintf("bytes=%d-%d", r.offset, r.end-1))
	case r.offset > 0:
		req.header.Set("Range", fmt.Sprintf("bytes=%d-", r.offset))
	}
	if r.info.Digest != "" && r.blobPath == "" {
		req.header.Set("If-Match", `"`+r.info.Digest+`"`)
	}
	resp, err := r.c.do(r.ctx, req)
	if err != nil {
		return fmt.Errorf("get object %s/%s: %w", r.info.Bucket, r.info.Key, err)
	}
	if (r.offset > 0 || r.end > 0) && resp.StatusCode != http.StatusPartialContent {
		drain(resp)
		return fmt.Errorf("get object %s/%s from offset %d: the server ignored the Range header (status %d)", r.info.Bucket, r.info.Key, r.offset, resp.StatusCode)
	}
	digest := r.info.Digest
	r.info = objectFromHeader(r.info.Bucket, r.info.Key, resp.Header, resp.ContentLength)
	if r.blobPath != "" {
		r.info.Digest = digest
	}
	r.body = resp.Body
	return nil
}

// Read reads the content, resuming after a broken connection.
func (r *ObjectReader) Read(p []byte) (int, error) {
	for {
		if r.err != nil {
			return 0, r.err
		}
		n, err := r.body.Read(p)
		r.offset += int64(n)
		if r.h != nil {
			r.h.Write(p[:n])
		}
		if n > 0 && r.progress != nil {
			r.progress(r.offset)
		}
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, io.EOF) && r.offset == r.stop():
			r.err = r.verify()
			return n, r.err
		}
		if n > 0 {
			r.failures = 0
		}
		if resumeErr := r.resume(err); resumeErr != nil {
			r.err = resumeErr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// stop returns the offset after the last byte the reader reads.
func (r *ObjectReader) stop() int64 {
	if r.end > 0 {
		return min(r.end, r.info.Size)
	}
	return r.info.Size
}

// resume opens a new response at the current offset after cause broke the
// previous one.
func (r *ObjectReader) resume(cause error) error {
	_ = r.body.Close()
	r.failures++
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	if r.failures >= r.c.retry.MaxAttempts {
		return fmt.Errorf("read object %s/%s at offset %d: %w: %w", r.info.Bucket, r.info.Key, r.offset, ErrUnavailable, cause)
	}
	if r.offset > r.stop() {
		return &IntegrityError{What: "object " + r.info.Bucket + "/" + r.info.Key + " size", Expected: fmt.Sprint(r.info.Size), Actual: fmt.Sprint(r.offset)}
	}
	if err := sleep(r.ctx, r.c.retry.delay(r.failures, 0)); err != nil {
		return err
	}
	if err := r.open(); err != nil {
		r.body = io.NopCloser(strings.NewReader(""))
		return err
	}
	return nil
}

// verify checks the digest at the end of the content.
func (r *ObjectReader) verify() error {
	if r.h == nil {
		return io.EOF
	}
	if got := sha256Digest(r.h); got != r.info.Digest {
		return &IntegrityError{What: "object " + r.info.Bucket + "/" + r.info.Key, Expected: r.info.Digest, Actual: got}
	}
	return io.EOF
}

// Close releases the connection.
func (r *ObjectReader) Close() error { return r.body.Close() }

// DownloadOptions configures [Client.DownloadFile].
type DownloadOptions struct {
	// Progress, when not nil, is called with the bytes of the file present
	// after every read, starting with those of a resumed partial file.
	Progress func(transferred int64)
	// Size, when not nil, is called once with the object's size before the
	// transfer starts.
	Size func(size int64)
	// Parallel is how many byte ranges of one object are fetched at once.
	// Zero or 1 fetches the content in order over one connection.
	Parallel int
	// PartSize is the size of one range, in bytes, when Parallel is above
	// 1. Zero means 16 MiB. Objects no larger than one part are fetched in
	// order.
	PartSize int64
}

// DownloadFile writes an object to path. The content goes to a partial
// file beside path, named after the object's digest, and is renamed to
// path once its digest is verified. A later call after an interruption
// finds the partial file and requests only the missing bytes, with
// If-Match, so a changed object starts over. With opts.Parallel above 1
// the ranges of a large object are fetched at once and written at their
// offsets (see fetchParts).
func (c *Client) DownloadFile(ctx context.Context, bucket, key, path string, opts DownloadOptions) (Object, error) {
	info, err := c.StatObject(ctx, bucket, key)
	if err != nil {
		return Object{}, err
	}
	if opts.Size != nil {
		opts.Size(info.Size)
	}
	partSize := opts.PartSize
	if partSize <= 0 {
		partSize = DefaultChunkSize
	}
	if opts.Parallel > 1 && info.Size > partSize {
		if err := c.fetchParts(ctx, info, path, opts.Parallel, partSize, opts.Progress); err != nil {
			return Object{}, fmt.Errorf("download %s/%s to %s: %w", bucket, key, path, err)
		}
		return info, nil
	}
	open := func(offset int64, prefix hash.Hash, progress func(int64)) (*ObjectReader, error) {
		return c.GetObject(ctx, bucket, key, GetOptions{Offset: offset, IfMatch: info.Digest, PrefixHash: prefix, Progress: progress})
	}
	if err := fetchToFile(path, info.Digest, info.Size, open, opts.Progress); err != nil {
		return Object{}, fmt.Errorf("download %s/%s to %s: %w", bucket, key, path, err)
	}
	return info, nil
}

// fetchToFile writes content of the given digest and size to path through
// a partial file that a later call resumes. open returns a reader from an
// offset that checks the digest, given the hash of the bytes before it.
func fetchToFile(path, digest string, size int64, open func(int64, hash.Hash, func(int64)) (*ObjectReader, error), progress func(int64)) error {
	partial := partialPath(path, digest)
	if _, err := os.Stat(partial + ".done"); err == nil {
		// fetchParts wrote this file with holes, which an in-order
		// download cannot resume.
		_ = os.Remove(partial)
		_ = os.Remove(partial + ".done")
	}
	file, offset, prefix, err := openPartial(partial, size)
	if err != nil {
		return err
	}
	defer file.Close()
	if progress != nil {
		progress(offset)
	}
	if offset < size || size == 0 {
		r, err := open(offset, prefix, progress)
		if err != nil {
			return err
		}
		_, err = io.Copy(file, r)
		r.Close()
		if err != nil {
			if errors.Is(err, ErrIntegrity) {
				_ = os.Remove(partial)
			}
			return err
		}
	} else if got := sha256Digest(prefix); got != digest {
		_ = os.Remove(partial)
		return &IntegrityError{What: "partial file " + partial, Expected: digest, Actual: got}
	}
	if err := file.Sync(); err != nil {
		return err
	}
	return os.Rename(partial, path)
}

// partialPath names the partial file of a download of the content with
// the given digest.
func partialPath(path, digest string) string {
	hexDigits := strings.TrimPrefix(digest, "sha256:")
	if len(hexDigits) > 16 {
		hexDigits = hexDigits[:16]
	}
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".coffer-"+hexDigits+".part")
}

// openPartial opens or creates a partial file and returns it positioned at
// its end, with its length and the SHA-256 of its content. A partial file
// longer than the object starts over.
func openPartial(partial string, size int64) (*os.File, int64, hash.Hash, error) {
	file, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open partial download: %w", err)
	}
	h := sha256.New()
	offset, err := io.Copy(h, file)
	if err == nil && offset > size {
		h.Reset()
		offset = 0
		err = file.Truncate(0)
	}
	if err == nil {
		_, err = file.Seek(offset, io.SeekStart)
	}
	if err != nil {
		file.Close()
		return nil, 0, nil, fmt.Errorf("read partial download %s: %w", partial, err)
	}
	return file, offset, h, nil
}
