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
	// Bucket names the bucket counted.
	Bucket string `json:"bucket"`
	// Objects and ObjectBytes count the objects and the sum of their sizes.
	Objects     int64 `json:"objects"`
	ObjectBytes int64 `json:"object_bytes"`
	// MultipartUploads counts the multipart uploads in progress, and
	// MultipartParts and MultipartBytes their parts and the sum of their sizes.
	MultipartUploads int64 `json:"multipart_uploads"`
	MultipartParts   int64 `json:"multipart_parts"`
	MultipartBytes   int64 `json:"multipart_bytes"`
	// TotalBytes is ObjectBytes plus MultipartBytes.
	TotalBytes int64 `json:"total_bytes"`
}

// RepositoryUsage is the bytes and counts an OCI repository accounts for.
type RepositoryUsage struct {
	// Repository names the repository counted.
	Repository string `json:"repository"`
	// Manifests and ManifestBytes count the manifests, tagged or not, and
	// the sum of their sizes.
	Manifests     int64 `json:"manifests"`
	ManifestBytes int64 `json:"manifest_bytes"`
	Tags          int64 `json:"tags"`
	// Blobs and BlobBytes count the distinct blobs linked to the
	// repository and the sum of their sizes.
	Blobs     int64 `json:"blobs"`
	BlobBytes int64 `json:"blob_bytes"`
	// TotalBytes is BlobBytes plus ManifestBytes.
	TotalBytes int64 `json:"total_bytes"`
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
	// Name is the repository name, such as "team/app".
	Name string `json:"name"`
	// Manifests and Tags count what the repository stores.
	Manifests int64 `json:"manifests"`
	Tags      int64 `json:"tags"`
	// Created is when the server created the repository record.
	Created time.Time `json:"created"`
}

// RepositoryPage is one page of [Client.Repositories].
type RepositoryPage struct {
	// Items are the repositories of this page.
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
	// Version is the cofferd version.
	Version string `json:"version"`
	// StorageDriver and MetadataDriver name the configured drivers, such
	// as "filesystem" or "s3", and "sqlite" or "postgres".
	StorageDriver  string `json:"storage_driver"`
	MetadataDriver string `json:"metadata_driver"`
	// Started is when the server started, and UptimeSeconds how long ago.
	Started       time.Time `json:"started"`
	UptimeSeconds int64     `json:"uptime_seconds"`
	// CorruptBlobReads counts the reads since the start that found content
	// not matching its digest.
	CorruptBlobReads int64 `json:"corrupt_blob_reads"`
}

// SystemInfo reads the server's version and drivers. It is a cheap
// authenticated request, so it also checks credentials.
func (c *Client) SystemInfo(ctx context.Context) (SystemInfo, error) {
	var info SystemInfo
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/system/info", nil, nil, &info)
	return info, err
}
