package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ociManifestType is the media type of an OCI image manifest.
const ociManifestType = "application/vnd.oci.image.manifest.v1+json"

// registryClient is a minimal OCI Distribution client: blob uploads
// (monolithic and chunked), blob GET and HEAD, manifest PUT and GET.
// It sends HTTP Basic credentials when a username is set and supports
// nothing else: no token auth, no mounts, no referrers.
type registryClient struct {
	base     *url.URL
	username string
	password string
	http     *http.Client
}

// newRegistryClient returns a client for the registry at baseURL that
// shares one transport with up to maxIdle idle connections to the host.
func newRegistryClient(baseURL, username, password string, maxIdle int) (*registryClient, error) {
	base, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("parse registry URL %q: %w", baseURL, err)
	}
	transport := &http.Transport{
		// Benchmark traffic goes only to the local server, never through a proxy.
		Proxy:               nil,
		MaxIdleConns:        maxIdle,
		MaxIdleConnsPerHost: maxIdle,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	client := &registryClient{
		base:     base,
		username: username,
		password: password,
		http:     &http.Client{Transport: transport},
	}
	return client, nil
}

// close releases the idle connections of the shared transport.
func (c *registryClient) close() {
	c.http.CloseIdleConnections()
}

// newRequest builds a request for ref, which is a path such as "/v2/" or an
// upload Location returned by the server (relative or absolute).
func (c *registryClient) newRequest(ctx context.Context, method, ref string, body io.Reader) (*http.Request, error) {
	target, err := c.base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("parse request URL %q: %w", ref, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), body)
	if err != nil {
		return nil, fmt.Errorf("build %s request for %s: %w", method, target, err)
	}
	if c.username != "" {
		req.SetBasicAuth(c.username, c.password)
	}
	return req, nil
}

// do sends req and returns the response when its status is want. On any other
// status it reads a little of the body into the error and closes the response.
func (c *registryClient) do(req *http.Request, want int) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode != want {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		drainAndClose(resp)
		return nil, fmt.Errorf("%s %s: status %d, expected %d: %s",
			req.Method, req.URL.Path, resp.StatusCode, want, strings.TrimSpace(string(detail)))
	}
	return resp, nil
}

// drainAndClose reads what is left of the body so the connection can be reused.
func drainAndClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// ping returns nil when GET /v2/ succeeds with the client's credentials.
func (c *registryClient) ping(ctx context.Context) error {
	req, err := c.newRequest(ctx, http.MethodGet, "/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return err
	}
	drainAndClose(resp)
	return nil
}

// startUpload opens an upload session in repo and returns its Location.
func (c *registryClient) startUpload(ctx context.Context, repo string) (string, error) {
	req, err := c.newRequest(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.do(req, http.StatusAccepted)
	if err != nil {
		return "", fmt.Errorf("start upload in %s: %w", repo, err)
	}
	drainAndClose(resp)
	return uploadLocation(resp)
}

// uploadLocation returns the Location header of an upload response.
func uploadLocation(resp *http.Response) (string, error) {
	location := resp.Header.Get("Location")
	if location == "" {
		return "", fmt.Errorf("%s %s: response has no Location header", resp.Request.Method, resp.Request.URL.Path)
	}
	return location, nil
}

// withDigest adds the digest query parameter to an upload Location, keeping
// any parameters the server put there.
func (c *registryClient) withDigest(location, digest string) (string, error) {
	target, err := c.base.Parse(location)
	if err != nil {
		return "", fmt.Errorf("parse upload location %q: %w", location, err)
	}
	query := target.Query()
	query.Set("digest", digest)
	target.RawQuery = query.Encode()
	return target.String(), nil
}

// pushBlob uploads size bytes from body as the blob digest with POST then a
// single PUT that streams the body.
func (c *registryClient) pushBlob(ctx context.Context, repo, digest string, size int64, body io.Reader) error {
	location, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	target, err := c.withDigest(location, digest)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPut, target, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.do(req, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("upload blob %s to %s: %w", digest, repo, err)
	}
	drainAndClose(resp)
	return nil
}

// pushBlobChunked uploads size bytes from body with POST, one PATCH per
// chunkSize bytes, and a closing PUT that carries the digest. The caller
// computes digest; this function only checks the server's byte ranges.
func (c *registryClient) pushBlobChunked(ctx context.Context, repo, digest string, size, chunkSize int64, body io.Reader) error {
	location, err := c.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	for offset := int64(0); offset < size; offset += chunkSize {
		length := min(chunkSize, size-offset)
		location, err = c.patchChunk(ctx, location, offset, length, io.LimitReader(body, length))
		if err != nil {
			return fmt.Errorf("upload chunk at offset %d of blob %s: %w", offset, digest, err)
		}
	}
	target, err := c.withDigest(location, digest)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPut, target, nil)
	if err != nil {
		return err
	}
	resp, err := c.do(req, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("finish upload of blob %s to %s: %w", digest, repo, err)
	}
	drainAndClose(resp)
	return nil
}

// patchChunk sends length bytes starting at offset and returns the Location
// for the next request of the session.
func (c *registryClient) patchChunk(ctx context.Context, location string, offset, length int64, chunk io.Reader) (string, error) {
	req, err := c.newRequest(ctx, http.MethodPatch, location, chunk)
	if err != nil {
		return "", err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", offset, offset+length-1))
	resp, err := c.do(req, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	drainAndClose(resp)

	wantRange := fmt.Sprintf("0-%d", offset+length-1)
	if got := resp.Header.Get("Range"); got != wantRange {
		return "", fmt.Errorf("PATCH response Range is %q, expected %q", got, wantRange)
	}
	return uploadLocation(resp)
}

// pullBlob streams the blob digest from repo into dst and returns the number
// of bytes copied.
func (c *registryClient) pullBlob(ctx context.Context, repo, digest string, dst io.Writer) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+digest, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return 0, fmt.Errorf("download blob %s from %s: %w", digest, repo, err)
	}
	defer drainAndClose(resp)

	n, err := io.Copy(dst, resp.Body)
	if err != nil {
		return n, fmt.Errorf("read blob %s from %s after %d bytes: %w", digest, repo, n, err)
	}
	return n, nil
}

// headBlob returns the Content-Length the registry reports for the blob digest.
func (c *registryClient) headBlob(ctx context.Context, repo, digest string) (int64, error) {
	req, err := c.newRequest(ctx, http.MethodHead, "/v2/"+repo+"/blobs/"+digest, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return 0, fmt.Errorf("check blob %s in %s: %w", digest, repo, err)
	}
	drainAndClose(resp)
	return resp.ContentLength, nil
}

// putManifest stores an OCI image manifest in repo under reference (a tag or digest).
func (c *registryClient) putManifest(ctx context.Context, repo, reference string, manifest []byte) error {
	req, err := c.newRequest(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+reference, bytes.NewReader(manifest))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ociManifestType)
	resp, err := c.do(req, http.StatusCreated)
	if err != nil {
		return fmt.Errorf("store manifest %s:%s: %w", repo, reference, err)
	}
	drainAndClose(resp)
	return nil
}

// getManifest fetches the OCI image manifest stored in repo under reference.
func (c *registryClient) getManifest(ctx context.Context, repo, reference string) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+reference, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", ociManifestType)
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("fetch manifest %s:%s: %w", repo, reference, err)
	}
	defer drainAndClose(resp)

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s:%s: %w", repo, reference, err)
	}
	return body, nil
}
