package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Attachment is a signature, SBOM or attestation attached to an object.
type Attachment struct {
	// Digest identifies the attachment: its referrer manifest's digest.
	Digest string `json:"digest"`
	// Subject is the object's content digest when the document was attached.
	Subject      string `json:"subject"`
	ArtifactType string `json:"artifact_type"`
	// MediaType, Document and Size describe the attached document.
	MediaType  string    `json:"media_type"`
	Document   string    `json:"document"`
	Size       int64     `json:"size"`
	Repository string    `json:"repository"`
	Created    time.Time `json:"created"`
}

// AttachOptions configures [Client.Attach].
type AttachOptions struct {
	// ArtifactType is the referrer's artifactType; empty uses the media type.
	ArtifactType string
}

// MaxAttachmentBytes is the largest document the server accepts as an
// attachment.
const MaxAttachmentBytes = 4 << 20

// attachmentsPath returns the escaped path of an object's attachments. The
// key is one path segment there, so "/" is escaped as %2F.
func attachmentsPath(bucket, key string) string {
	return "/api/v1/buckets/" + url.PathEscape(bucket) + "/objects/" + url.PathEscape(key) + "/attachments"
}

// Attach attaches document, of the given media type, to the object's
// current content. Media types the server accepts include
// application/vnd.dev.sigstore.bundle.v0.3+json (cosign sign-blob and
// attest-blob bundles), application/vnd.dsse.envelope.v1+json,
// application/spdx+json and application/vnd.cyclonedx+json.
func (c *Client) Attach(ctx context.Context, bucket, key, mediaType string, document []byte, opts AttachOptions) (Attachment, error) {
	if len(document) > MaxAttachmentBytes {
		return Attachment{}, fmt.Errorf("attach to %s/%s: the document has %d bytes; the limit is %d", bucket, key, len(document), MaxAttachmentBytes)
	}
	query := url.Values{}
	if opts.ArtifactType != "" {
		query.Set("artifact_type", opts.ArtifactType)
	}
	resp, err := c.do(ctx, request{
		method: http.MethodPost,
		path:   attachmentsPath(bucket, key),
		query:  query,
		header: http.Header{"Content-Type": {mediaType}},
		body:   func() (io.Reader, error) { return bytes.NewReader(document), nil },
		length: int64(len(document)),
		expect: []int{http.StatusCreated},
	})
	if err != nil {
		return Attachment{}, err
	}
	defer drain(resp)
	var a Attachment
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return Attachment{}, fmt.Errorf("attach to %s/%s: %w", bucket, key, err)
	}
	return a, nil
}

// Attachments lists the attachments of an object, including those made for
// content the object no longer has.
func (c *Client) Attachments(ctx context.Context, bucket, key string) ([]Attachment, error) {
	var out page[Attachment]
	if err := c.callJSON(ctx, http.MethodGet, attachmentsPath(bucket, key), nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// OpenAttachment opens the document of one attachment. The caller closes it.
func (c *Client) OpenAttachment(ctx context.Context, bucket, key, digest string) (io.ReadCloser, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: attachmentsPath(bucket, key) + "/" + url.PathEscape(digest)})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// DeleteAttachment deletes one attachment of an object.
func (c *Client) DeleteAttachment(ctx context.Context, bucket, key, digest string) error {
	return c.callJSON(ctx, http.MethodDelete, attachmentsPath(bucket, key)+"/"+url.PathEscape(digest), nil, nil, nil)
}
