package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Repository, bucket, key and seed of workload (d), the blob push and
// pull. Its seed differs from those of workload (b), so Coffer stores the
// blob anew.
const (
	blobRepository = "bench/blob"
	blobBucket     = "bench-blob"
	blobKey        = "blob"
	blobSeed       = 3
)

// ociTarget is the OCI API that workload (d) uses instead of S3 calls.
type ociTarget struct {
	base     *url.URL
	username string
	password string
}

// runBlob is workload (d): one blob of -big-size bytes pushed and pulled
// the way the server is used as a blob store. With -oci-endpoint it goes
// through the OCI API, as a registry client pushes a layer: POST, then one
// PUT with the digest that streams the body, then a GET. Without it the
// same bytes go as one PutObject and come back with one GetObject, which
// is how the benchmark writes them straight to an S3 store. The rows of
// both kinds share their names, so the table puts them side by side.
func runBlob(ctx context.Context, b *bench) ([]result, error) {
	size := b.cfg.bigSize
	want := seededObject{seed: blobSeed, size: size}.sha256Sum()
	pushName := fmt.Sprintf("blob push %s (OCI POST and PUT, or PutObject)", formatSize(size))
	pullName := fmt.Sprintf("blob pull %s (OCI GET, or GetObject)", formatSize(size))
	if b.oci == nil {
		if err := createBucket(ctx, b.client, blobBucket); err != nil {
			return nil, err
		}
	}

	slog.Info("pushing blob", "bytes", size, "oci", b.oci != nil)
	m, err := b.probe.begin()
	if err != nil {
		return nil, err
	}
	if b.oci != nil {
		err = b.oci.push(ctx, b.http, "sha256:"+hex.EncodeToString(want[:]), size)
	} else {
		_, err = b.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(blobBucket),
			Key:           aws.String(blobKey),
			Body:          newSeededReader(blobSeed, size),
			ContentLength: aws.Int64(size),
		}, unsignedPayload)
	}
	if err != nil {
		return nil, fmt.Errorf("push blob: %w", err)
	}
	push, err := m.end(result{Workload: pushName, Kind: kindTransfer, Bytes: size, Requests: 2})
	if err != nil {
		return nil, err
	}

	slog.Info("pulling blob", "bytes", size, "oci", b.oci != nil)
	if m, err = b.probe.begin(); err != nil {
		return nil, err
	}
	var body io.ReadCloser
	if b.oci != nil {
		body, err = b.oci.pull(ctx, b.http, "sha256:"+hex.EncodeToString(want[:]))
	} else {
		var out *s3.GetObjectOutput
		if out, err = b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(blobBucket), Key: aws.String(blobKey)}); err == nil {
			body = out.Body
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pull blob: %w", err)
	}
	hash := sha256.New()
	n, err := io.CopyBuffer(hash, body, make([]byte, bigReadBufBytes))
	closeErr := body.Close()
	if err != nil {
		return nil, fmt.Errorf("read blob after %d bytes: %w", n, err)
	}
	if closeErr != nil {
		return nil, fmt.Errorf("close blob body: %w", closeErr)
	}
	pull, err := m.end(result{Workload: pullName, Kind: kindTransfer, Bytes: n, Requests: 1})
	if err != nil {
		return nil, err
	}
	if got := hash.Sum(nil); n != size || [sha256.Size]byte(got) != want {
		return nil, fmt.Errorf("pulled %d bytes with sha256 %x, expected %d with %x", n, got, size, want)
	}
	return []result{push, pull}, nil
}

// push uploads the blob of workload (d) as digest: POST opens an upload
// session, and one PUT with the digest streams the whole body.
func (o *ociTarget) push(ctx context.Context, client *http.Client, digest string, size int64) error {
	resp, err := o.do(ctx, client, http.MethodPost, "/v2/"+blobRepository+"/blobs/uploads/", nil, 0, http.StatusAccepted)
	if err != nil {
		return err
	}
	location, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return fmt.Errorf("upload session has no usable Location %q", resp.Header.Get("Location"))
	}
	query := location.Query()
	query.Set("digest", digest)
	location.RawQuery = query.Encode()
	resp, err = o.do(ctx, client, http.MethodPut, location.String(), newSeededReader(blobSeed, size), size, http.StatusCreated)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// pull opens the body of blob digest.
func (o *ociTarget) pull(ctx context.Context, client *http.Client, digest string) (io.ReadCloser, error) {
	resp, err := o.do(ctx, client, http.MethodGet, "/v2/"+blobRepository+"/blobs/"+digest, nil, 0, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// do sends one request with Basic credentials to ref, a path or a URL
// relative to the OCI endpoint, and returns the response when its status
// is want.
func (o *ociTarget) do(ctx context.Context, client *http.Client, method, ref string, body io.Reader, size int64, want int) (*http.Response, error) {
	target, err := o.base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", ref, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", method, target.Path, err)
	}
	req.ContentLength = size
	req.SetBasicAuth(o.username, o.password)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target.Path, err)
	}
	if resp.StatusCode != want {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%s %s: status %d, expected %d: %s", method, target.Path, resp.StatusCode, want, strings.TrimSpace(string(detail)))
	}
	if method != http.MethodGet {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp, nil
}
