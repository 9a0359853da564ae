package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Bucket is a bucket of the object store.
type Bucket struct {
	// Name is the bucket's S3 name.
	Name string `json:"name"`
	// Region is the region the bucket was created in, such as "us-east-1".
	Region  string    `json:"region"`
	Created time.Time `json:"created"`
}

// Buckets lists every bucket.
func (c *Client) Buckets(ctx context.Context) ([]Bucket, error) {
	var p page[Bucket]
	if err := c.callJSON(ctx, http.MethodGet, "/api/v1/buckets", nil, nil, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}

// CreateBucket creates a bucket. An existing bucket gives [ErrConflict].
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	return c.callJSON(ctx, http.MethodPost, "/api/v1/buckets", nil, map[string]string{"name": name}, nil)
}

// DeleteBucketOptions configures [Client.DeleteBucket].
type DeleteBucketOptions struct {
	// Recursive deletes every object and upload in the bucket first. False
	// deletes only an empty bucket and gives [ErrConflict] otherwise.
	Recursive bool
}

// DeleteBucket deletes a bucket.
func (c *Client) DeleteBucket(ctx context.Context, name string, opts DeleteBucketOptions) error {
	var query url.Values
	if opts.Recursive {
		query = url.Values{"recursive": {"true"}}
	}
	return c.callJSON(ctx, http.MethodDelete, "/api/v1/buckets/"+url.PathEscape(name), query, nil, nil)
}
