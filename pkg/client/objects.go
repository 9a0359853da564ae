package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Object describes a stored object.
type Object struct {
	// Bucket and Key name the object.
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Size is the object's length in bytes.
	Size int64 `json:"size"`
	// Digest is the SHA-256 digest of the content, "sha256:<hex>".
	Digest string `json:"digest"`
	// ETag is the S3 ETag (the MD5 of the content for a single upload).
	// Listings carry it; [Client.StatObject] and [ObjectReader.Info] leave
	// it empty, because the native API's ETag header is the digest.
	ETag        string    `json:"etag,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Modified    time.Time `json:"modified"`
}

// objectPath returns the escaped API path of an object.
func objectPath(bucket, key string) string {
	return "/api/v1/buckets/" + url.PathEscape(bucket) + "/objects/" + escapePath(key)
}

// StatObject reads an object's description without its content.
func (c *Client) StatObject(ctx context.Context, bucket, key string) (Object, error) {
	resp, err := c.do(ctx, request{method: http.MethodHead, path: objectPath(bucket, key)})
	if err != nil {
		return Object{}, err
	}
	defer drain(resp)
	return objectFromHeader(bucket, key, resp.Header, resp.ContentLength), nil
}

// objectFromHeader reads an object's description from the headers of a
// GET or HEAD response.
func objectFromHeader(bucket, key string, h http.Header, size int64) Object {
	o := Object{
		Bucket:      bucket,
		Key:         key,
		Size:        size,
		Digest:      h.Get("Coffer-Digest"),
		ContentType: h.Get("Content-Type"),
	}
	if total, ok := contentRangeTotal(h.Get("Content-Range")); ok {
		o.Size = total
	}
	if modified, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		o.Modified = modified.UTC()
	}
	return o
}

// contentRangeTotal reads the complete length from "bytes a-b/total".
func contentRangeTotal(value string) (int64, bool) {
	_, total, ok := strings.Cut(value, "/")
	if !ok || total == "*" {
		return 0, false
	}
	n, err := strconv.ParseInt(total, 10, 64)
	return n, err == nil
}

// ListOptions selects the objects of [Client.ListObjects].
type ListOptions struct {
	// Prefix limits the list to keys that start with it. Empty lists all.
	Prefix string
	// Delimiter, such as "/", groups keys that contain it after the prefix
	// into CommonPrefixes, like directories. Empty lists every key.
	Delimiter string
	// Limit is the page size, from 1 to 1000. Zero uses the server's
	// default, 100.
	Limit int
	// Cursor is the NextCursor of the previous page; empty starts at the
	// first key.
	Cursor string
}

// ObjectPage is one page of a listing.
type ObjectPage struct {
	// Items are the objects of this page, in key order.
	Items []Object `json:"items"`
	// CommonPrefixes are the groups that Delimiter formed, such as "logs/".
	CommonPrefixes []string `json:"common_prefixes,omitempty"`
	// NextCursor is set when more keys follow; pass it as Cursor.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListObjects lists one page of the objects in a bucket in key order.
func (c *Client) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ObjectPage, error) {
	query := PageOptions{Limit: opts.Limit, Cursor: opts.Cursor}.query()
	if opts.Prefix != "" {
		query.Set("prefix", opts.Prefix)
	}
	if opts.Delimiter != "" {
		query.Set("delimiter", opts.Delimiter)
	}
	var p ObjectPage
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/buckets/"+url.PathEscape(bucket)+"/objects", query, nil, &p)
	return p, err
}

// AllObjects iterates over every object that opts selects, fetching pages
// as it goes. Common prefixes are skipped; use [Client.ListObjects] to see
// them. The iteration stops at the first error, which it yields.
func (c *Client) AllObjects(ctx context.Context, bucket string, opts ListOptions) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		for {
			p, err := c.ListObjects(ctx, bucket, opts)
			if err != nil {
				yield(Object{}, err)
				return
			}
			for _, o := range p.Items {
				if !yield(o, nil) {
					return
				}
			}
			if p.NextCursor == "" {
				return
			}
			opts.Cursor = p.NextCursor
		}
	}
}

// DeleteObject deletes an object.
func (c *Client) DeleteObject(ctx context.Context, bucket, key string) error {
	return c.callJSON(ctx, http.MethodDelete, objectPath(bucket, key), nil, nil, nil)
}

// CopyObject copies an object to another bucket or key, streaming it
// through the client. The server stores equal content once, so the copy
// adds no storage; the digest is verified on the way.
func (c *Client) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string) (Object, error) {
	src, err := c.GetObject(ctx, srcBucket, srcKey, GetOptions{})
	if err != nil {
		return Object{}, err
	}
	defer src.Close()
	info := src.Info()
	o, err := c.PutObject(ctx, dstBucket, dstKey, src, PutOptions{
		Size: info.Size, Digest: info.Digest, ContentType: info.ContentType,
	})
	if err != nil {
		return Object{}, fmt.Errorf("copy %s/%s to %s/%s: %w", srcBucket, srcKey, dstBucket, dstKey, err)
	}
	return o, nil
}
