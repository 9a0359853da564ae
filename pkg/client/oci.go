package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Media types of OCI content.
const (
	MediaTypeImageManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeImageIndex    = "application/vnd.oci.image.index.v1+json"
	// MediaTypeEmptyJSON is the config of an artifact that has none: the
	// two bytes "{}".
	MediaTypeEmptyJSON = "application/vnd.oci.empty.v1+json"
	// MediaTypeFile is the layer media type [Client.PushFiles] uses when the
	// caller names none.
	MediaTypeFile = "application/octet-stream"
	// AnnotationTitle names a layer's file, as oras does.
	AnnotationTitle = "org.opencontainers.image.title"
)

// manifestAccept lists the manifest types the client reads.
var manifestAccept = strings.Join([]string{
	MediaTypeImageManifest, MediaTypeImageIndex,
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}, ", ")

// Descriptor points at content by digest, as in the OCI image specification.
type Descriptor struct {
	// MediaType, Digest and Size identify the content: its type, its
	// digest ("sha256:…") and its length in bytes.
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	// ArtifactType is the type of an artifact manifest this descriptor
	// points to, as the referrers API lists it.
	ArtifactType string `json:"artifactType,omitempty"`
	// Annotations are free-form key-value metadata.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Manifest is an OCI image manifest, the form artifacts take.
type Manifest struct {
	// SchemaVersion is always 2, and MediaType is the OCI image manifest type.
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	// ArtifactType is the type of an artifact, such as an SBOM; empty for an image.
	ArtifactType string `json:"artifactType,omitempty"`
	// Config and Layers are the blobs the manifest references.
	Config Descriptor   `json:"config"`
	Layers []Descriptor `json:"layers"`
	// Subject is the manifest this one refers to, which makes it a referrer.
	Subject *Descriptor `json:"subject,omitempty"`
	// Annotations are free-form key-value metadata.
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Index is an OCI image index, the form of a referrers list.
type Index struct {
	// SchemaVersion is always 2, and MediaType is the OCI image index type.
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	// Manifests lists the manifests of the index, or the referrers of a
	// subject in a referrers response.
	Manifests []Descriptor `json:"manifests"`
}

func blobPath(repo, digest string) string { return "/v2/" + repo + "/blobs/" + digest }

func manifestPath(repo, reference string) string {
	return "/v2/" + repo + "/manifests/" + url.PathEscape(reference)
}

// BlobExists reports whether the repository has the blob.
func (c *Client) BlobExists(ctx context.Context, repo, digest string) (bool, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: blobPath(repo, digest)})
	if err == nil {
		drain(resp)
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}

// PushBlobOptions configures [Client.PushBlob].
type PushBlobOptions struct {
	// Size is the blob's length in bytes. Zero means unknown, unless the
	// body is an io.Seeker, whose length is then measured.
	Size int64
	// Digest is the blob's digest when the caller knows it; the push is
	// skipped when the repository already has it. Empty computes it while
	// streaming.
	Digest string
	// Progress, when not nil, is called with the bytes the server holds or
	// is receiving.
	Progress func(transferred int64)
}

// PushBlob uploads a blob to a repository and returns its descriptor
// (with the media type left empty). A body that can be read again goes up
// in chunks, and after a failed chunk the upload resumes from the offset
// the server reports. Any other body goes in one streamed request.
func (c *Client) PushBlob(ctx context.Context, repo string, body io.Reader, opts PushBlobOptions) (Descriptor, error) {
	if opts.Digest != "" {
		exists, err := c.BlobExists(ctx, repo, opts.Digest)
		if err != nil {
			return Descriptor{}, err
		}
		if exists && opts.Size > 0 {
			if opts.Progress != nil {
				opts.Progress(opts.Size)
			}
			return Descriptor{Digest: opts.Digest, Size: opts.Size}, nil
		}
	}
	location, err := c.startBlobUpload(ctx, repo)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push blob to %s: %w", repo, err)
	}
	h := sha256.New()
	size, err := c.sendBlob(ctx, location, body, h, opts)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push blob to %s: %w", repo, err)
	}

	digest := sha256Digest(h)
	if opts.Digest != "" && opts.Digest != digest {
		return Descriptor{}, &IntegrityError{What: "blob pushed to " + repo, Expected: opts.Digest, Actual: digest}
	}
	complete := location.request(http.MethodPut)
	complete.query.Set("digest", digest)
	resp, err := c.do(ctx, complete)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push blob %s to %s: %w", digest, repo, err)
	}
	drain(resp)
	if size < 0 {
		size = 0
		if info, err := c.headBlob(ctx, repo, digest); err == nil {
			size = info
		}
	}
	return Descriptor{Digest: digest, Size: size}, nil
}

// sendBlob sends body to an OCI upload session and feeds it to h. It
// returns the body's size, or -1 when the size was not known beforehand.
func (c *Client) sendBlob(ctx context.Context, location uploadLocation, body io.Reader, h hash.Hash, opts PushBlobOptions) (int64, error) {
	src, size, seekable := readerAt(body, opts.Size)
	if seekable {
		up := &chunkedUpload{
			c: c, src: src, size: size, progress: opts.Progress, h: h,
			chunk: func(first, n int64) request {
				req := location.request(http.MethodPatch)
				req.header = http.Header{"Content-Range": {fmt.Sprintf("%d-%d", first, first+n-1)}, "Content-Type": {"application/octet-stream"}}
				return req
			},
			status: func(ctx context.Context) (int64, error) { return c.blobUploadOffset(ctx, location) },
		}
		return size, up.run(ctx)
	}

	req := location.request(http.MethodPatch)
	req.header = http.Header{"Content-Type": {"application/octet-stream"}}
	req.length = -1
	req.body = onceBody(&progressReader{r: io.TeeReader(body, h), report: opts.Progress})
	resp, err := c.do(ctx, req)
	if err != nil {
		return 0, err
	}
	drain(resp)
	return -1, nil
}

// uploadLocation is an OCI upload session URL split into path and query.
type uploadLocation struct {
	path  string
	query string
}

func (l uploadLocation) request(method string) request {
	query, _ := url.ParseQuery(l.query)
	return request{method: method, path: l.path, query: query}
}

func (c *Client) startBlobUpload(ctx context.Context, repo string) (uploadLocation, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/v2/" + repo + "/blobs/uploads/", expect: []int{http.StatusAccepted}})
	if err != nil {
		return uploadLocation{}, err
	}
	drain(resp)
	location, err := resp.Location()
	if err != nil {
		return uploadLocation{}, fmt.Errorf("upload session without a Location: %w", err)
	}
	return uploadLocation{path: strings.TrimPrefix(location.EscapedPath(), c.base.EscapedPath()), query: location.RawQuery}, nil
}

// blobUploadOffset reads the bytes an OCI upload session holds from its
// Range header, "0-<last>".
func (c *Client) blobUploadOffset(ctx context.Context, location uploadLocation) (int64, error) {
	resp, err := c.do(ctx, location.request(http.MethodGet))
	if err != nil {
		return 0, err
	}
	drain(resp)
	value := resp.Header.Get("Range")
	_, last, ok := strings.Cut(value, "-")
	end, err := strconv.ParseInt(last, 10, 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("upload session: invalid Range %q", value)
	}
	if end == 0 {
		// "0-0" is both an empty session and one holding one byte. Chunks
		// are kept whole or not at all, so a session of this client never
		// holds exactly one byte unless the blob has one.
		return 0, nil
	}
	return end + 1, nil
}

func (c *Client) headBlob(ctx context.Context, repo, digest string) (int64, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: blobPath(repo, digest)})
	if err != nil {
		return 0, err
	}
	drain(resp)
	return resp.ContentLength, nil
}

// FetchBlob opens a blob for reading. Like [ObjectReader] it resumes after
// a broken connection and checks the digest at the end. offset skips the
// first bytes, and the digest is then not checked.
func (c *Client) FetchBlob(ctx context.Context, repo, digest string, offset int64) (*ObjectReader, error) {
	r := &ObjectReader{c: c, ctx: ctx, offset: offset, blobPath: blobPath(repo, digest)}
	r.info = Object{Key: digest, Digest: digest}
	if offset == 0 {
		r.h = sha256.New()
	}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

// PushManifest stores a manifest under reference, a tag or its digest, and
// returns its descriptor.
func (c *Client) PushManifest(ctx context.Context, repo, reference, mediaType string, body []byte) (Descriptor, error) {
	sum := sha256.Sum256(body)
	desc := Descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(body))}
	if reference == "" {
		reference = desc.Digest
	}
	req := request{
		method: http.MethodPut, path: manifestPath(repo, reference), length: int64(len(body)),
		header: http.Header{"Content-Type": {mediaType}},
		body:   func() (io.Reader, error) { return bytes.NewReader(body), nil },
	}
	resp, err := c.do(ctx, req)
	if err != nil {
		return Descriptor{}, fmt.Errorf("push manifest %s:%s: %w", repo, reference, err)
	}
	drain(resp)
	return desc, nil
}

// FetchManifest reads a manifest by tag or digest, checks its digest and
// returns its bytes and descriptor.
func (c *Client) FetchManifest(ctx context.Context, repo, reference string) ([]byte, Descriptor, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: manifestPath(repo, reference), header: http.Header{"Accept": {manifestAccept}}})
	if err != nil {
		return nil, Descriptor{}, fmt.Errorf("fetch manifest %s:%s: %w", repo, reference, err)
	}
	defer drain(resp)
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20+1))
	if err != nil {
		return nil, Descriptor{}, fmt.Errorf("fetch manifest %s:%s: %w", repo, reference, err)
	}
	sum := sha256.Sum256(body)
	desc := Descriptor{MediaType: resp.Header.Get("Content-Type"), Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(body))}
	if strings.HasPrefix(reference, "sha256:") && reference != desc.Digest {
		return nil, Descriptor{}, &IntegrityError{What: "manifest " + repo + "@" + reference, Expected: reference, Actual: desc.Digest}
	}
	if header := resp.Header.Get("Docker-Content-Digest"); header != "" && header != desc.Digest {
		return nil, Descriptor{}, &IntegrityError{What: "manifest " + repo + ":" + reference, Expected: header, Actual: desc.Digest}
	}
	return body, desc, nil
}

// DeleteManifest deletes a tag, or a manifest by digest with every tag
// pointing at it.
func (c *Client) DeleteManifest(ctx context.Context, repo, reference string) error {
	resp, err := c.do(ctx, request{method: http.MethodDelete, path: manifestPath(repo, reference)})
	if err != nil {
		return fmt.Errorf("delete %s:%s: %w", repo, reference, err)
	}
	drain(resp)
	return nil
}

// TagOptions selects one page of [Client.Tags].
type TagOptions struct {
	// Limit is the page size. Zero uses the server's default (up to 10,000).
	Limit int
	// Last is the last tag of the previous page; empty starts at the first.
	Last string
}

// TagPage is one page of tags in lexical order.
type TagPage struct {
	// Tags are the tags of this page.
	Tags []string `json:"tags"`
	// Next is the Last of the next page, or empty after the last page.
	Next string `json:"next,omitempty"`
}

// Tags lists a repository's tags, one page at a time.
func (c *Client) Tags(ctx context.Context, repo string, opts TagOptions) (TagPage, error) {
	query := url.Values{}
	if opts.Limit > 0 {
		query.Set("n", strconv.Itoa(opts.Limit))
	}
	if opts.Last != "" {
		query.Set("last", opts.Last)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v2/" + repo + "/tags/list", query: query})
	if err != nil {
		return TagPage{}, fmt.Errorf("list tags of %s: %w", repo, err)
	}
	defer drain(resp)
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return TagPage{}, fmt.Errorf("list tags of %s: decode: %w", repo, err)
	}
	page := TagPage{Tags: body.Tags}
	if page.Tags == nil {
		page.Tags = []string{}
	}
	if resp.Header.Get("Link") != "" && len(page.Tags) > 0 {
		page.Next = page.Tags[len(page.Tags)-1]
	}
	return page, nil
}

// ReferrersOptions configures [Client.Referrers].
type ReferrersOptions struct {
	// ArtifactType keeps only referrers of this type, such as
	// "application/vnd.dev.sigstore.bundle.v0.3+json". Empty keeps all.
	ArtifactType string
}

// Referrers lists the manifests whose subject is digest: signatures, SBOMs,
// attestations and other artifacts attached to it.
func (c *Client) Referrers(ctx context.Context, repo, digest string, opts ReferrersOptions) ([]Descriptor, error) {
	var query url.Values
	if opts.ArtifactType != "" {
		query = url.Values{"artifactType": {opts.ArtifactType}}
	}
	var index Index
	if err := c.callJSON(ctx, http.MethodGet, "/v2/"+repo+"/referrers/"+digest, query, nil, &index); err != nil {
		return nil, fmt.Errorf("list referrers of %s@%s: %w", repo, digest, err)
	}
	if index.Manifests == nil {
		index.Manifests = []Descriptor{}
	}
	return index.Manifests, nil
}

func isNotFound(err error) bool {
	var httpErr *Error
	return errors.As(err, &httpErr) && httpErr.StatusCode == http.StatusNotFound
}
