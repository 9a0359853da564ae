package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options configures a [Client]. The zero value of every field is a
// documented default.
type Options struct {
	// Auth adds credentials to every request. Nil sends none, which only
	// the public endpoints accept.
	Auth Authenticator
	// HTTPClient sends the requests. Nil uses a client with no overall
	// timeout, because transfers of large files take as long as they take;
	// cancel the context to stop one.
	HTTPClient *http.Client
	// Retry sets how failed requests are retried; the zero value retries up
	// to 4 attempts in all (see [RetryOptions]).
	Retry RetryOptions
	// Breaker, when not nil, stops sending requests for a while after
	// consecutive failures (see [BreakerOptions]). Nil disables it.
	Breaker *BreakerOptions
	// UserAgent is sent in User-Agent. Empty sends "coffer-go".
	UserAgent string
	// ChunkSize is the size of one upload request of a resumable upload, in
	// bytes. A failed chunk is sent again from the offset the server
	// reports, so a broken connection costs at most one chunk. Zero means
	// 16 MiB.
	ChunkSize int64
}

// Client is a Coffer API client. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	auth      Authenticator
	retry     RetryOptions
	breaker   *breaker
	userAgent string
	chunkSize int64
}

// Defaults of [Options].
const (
	DefaultUserAgent = "coffer-go"
	DefaultChunkSize = 16 << 20
)

// New returns a client for the server at serverURL, such as
// "http://127.0.0.1:5000". The URL must have the http or https scheme and a
// host; a path, if any, is kept as the prefix of every request.
func New(serverURL string, opts Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(serverURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", serverURL, err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("server URL %q: expected http://host:port or https://host:port", serverURL)
	}
	c := &Client{
		base:      base,
		http:      opts.HTTPClient,
		auth:      opts.Auth,
		retry:     opts.Retry.withDefaults(),
		userAgent: opts.UserAgent,
		chunkSize: opts.ChunkSize,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.chunkSize <= 0 {
		c.chunkSize = DefaultChunkSize
	}
	if opts.Breaker != nil {
		c.breaker = newBreaker(opts.Breaker.withDefaults())
	}
	return c, nil
}

// URL returns the server URL the client was created with.
func (c *Client) URL() string { return c.base.String() }

// request describes one API call. body, when set, returns a fresh reader
// of the request body for every attempt, so a retried request resends it.
type request struct {
	method string
	path   string // escaped path below the server URL, starting with /
	query  url.Values
	header http.Header
	body   func() (io.Reader, error)
	// length is the body's size in bytes, or -1 when it is unknown and the
	// body goes out with chunked transfer encoding.
	length int64
	// retryable marks a request that may be sent again after a network
	// error; 429 and 503 are retried for every request.
	retryable bool
	// expect lists the success statuses; empty accepts any 2xx.
	expect []int
}

// do sends req with retries and returns the response of the first attempt
// that succeeds. The caller closes the body. A non-success status becomes
// an error that wraps a sentinel.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	req.retryable = req.retryable || isIdempotent(req.method)
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := c.breaker.allow(); err != nil {
			return nil, err
		}
		resp, err := c.send(ctx, req)
		if err == nil && c.accepted(req, resp.StatusCode) {
			c.breaker.record(true)
			return resp, nil
		}
		if err == nil {
			err = responseError(req.method, resp)
		}
		transient := isTransient(err)
		c.breaker.record(!transient)
		lastErr = err
		if ctx.Err() != nil {
			return nil, lastErr
		}
		if attempt >= c.retry.MaxAttempts || !shouldRetry(req, err) {
			return nil, lastErr
		}
		if err := sleep(ctx, c.retry.delay(attempt, retryAfter(err))); err != nil {
			return nil, lastErr
		}
	}
}

func (c *Client) accepted(req request, status int) bool {
	if len(req.expect) == 0 {
		return status >= 200 && status < 300
	}
	for _, s := range req.expect {
		if s == status {
			return true
		}
	}
	return false
}

// send performs one attempt.
func (c *Client) send(ctx context.Context, req request) (*http.Response, error) {
	target := c.base.String() + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		var err error
		if body, err = req.body(); err != nil {
			return nil, err
		}
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", req.method, req.path, err)
	}
	if body != nil {
		httpReq.ContentLength = req.length
		if req.length == 0 {
			httpReq.Body = http.NoBody
		}
	}
	for name, values := range req.header {
		httpReq.Header[name] = values
	}
	httpReq.Header.Set("User-Agent", c.userAgent)
	if c.auth != nil {
		if err := c.auth.Authorize(ctx, httpReq); err != nil {
			return nil, fmt.Errorf("authorize %s %s: %w", req.method, req.path, err)
		}
	}
	resp, err := c.http.Do(httpReq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", req.method, req.path, ctx.Err())
		}
		return nil, &networkError{op: req.method + " " + req.path, err: err}
	}
	return resp, nil
}

// drain reads what is left of a response body, up to a limit, and closes
// it, so the connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// networkError is a request that got no HTTP response.
type networkError struct {
	op  string
	err error
}

func (e *networkError) Error() string { return e.op + ": " + e.err.Error() }
func (e *networkError) Unwrap() []error {
	return []error{ErrUnavailable, e.err}
}

// escapePath escapes each /-separated segment of p.
func escapePath(p string) string {
	segments := strings.Split(p, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return strings.Join(segments, "/")
}
