package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// BucketUsage is the bytes and counts a bucket accounts for. The numbers are logical
// bytes: content shared with other buckets or repositories counts in each.
type BucketUsage struct {
	Bucket           string `json:"bucket"`
	Objects          int64  `json:"objects"`
	ObjectBytes      int64  `json:"object_bytes"`
	MultipartUploads int64  `json:"multipart_uploads"`
	MultipartParts   int64  `json:"multipart_parts"`
	MultipartBytes   int64  `json:"multipart_bytes"`
	TotalBytes       int64  `json:"total_bytes"`
}

// RepositoryUsage is the bytes and counts an OCI repository accounts for.
type RepositoryUsage struct {
	Repository    string `json:"repository"`
	Manifests     int64  `json:"manifests"`
	ManifestBytes int64  `json:"manifest_bytes"`
	Tags          int64  `json:"tags"`
	Blobs         int64  `json:"blobs"`
	BlobBytes     int64  `json:"blob_bytes"`
	TotalBytes    int64  `json:"total_bytes"`
}

// BucketUsage reads the usage counters of a bucket.
func (c *Client) BucketUsage(ctx context.Context, bucket string) (BucketUsage, error) {
	var u BucketUsage
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/buckets/"+url.PathEscape(bucket)+"/usage", nil, nil, &u)
	return u, err
}

// RepositoryUsage reads the usage counters of a repository.
func (c *Client) RepositoryUsage(ctx context.Context, repository string) (RepositoryUsage, error) {
	var u RepositoryUsage
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/repositories/"+escapePath(repository)+"/usage", nil, nil, &u)
	return u, err
}

// Repository is an OCI repository with its counts.
type Repository struct {
	Name      string    `json:"name"`
	Manifests int64     `json:"manifests"`
	Tags      int64     `json:"tags"`
	Created   time.Time `json:"created"`
}

// RepositoryPage is one page of [Client.Repositories].
type RepositoryPage struct {
	Items []Repository
	// NextCursor is set when more repositories follow.
	NextCursor string
}

// Repositories lists repositories in name order, one page at a time.
func (c *Client) Repositories(ctx context.Context, opts PageOptions) (RepositoryPage, error) {
	var p page[Repository]
	if err := c.callJSON(ctx, http.MethodGet, "/api/v1/repositories", opts.query(), nil, &p); err != nil {
		return RepositoryPage{}, err
	}
	return RepositoryPage{Items: p.Items, NextCursor: p.NextCursor}, nil
}

// SystemInfo describes the server.
type SystemInfo struct {
	Version          string    `json:"version"`
	StorageDriver    string    `json:"storage_driver"`
	MetadataDriver   string    `json:"metadata_driver"`
	Started          time.Time `json:"started"`
	UptimeSeconds    int64     `json:"uptime_seconds"`
	CorruptBlobReads int64     `json:"corrupt_blob_reads"`
}

// SystemInfo reads the server's version and drivers. It is a cheap
// authenticated request, so it also checks credentials.
func (c *Client) SystemInfo(ctx context.Context) (SystemInfo, error) {
	var info SystemInfo
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/system/info", nil, nil, &info)
	return info, err
}
