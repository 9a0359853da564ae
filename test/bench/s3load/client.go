package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// region is the region both servers serve by default.
const region = "us-east-1"

// unsignedPayload makes the SDK send x-amz-content-sha256: UNSIGNED-PAYLOAD
// over plain HTTP, where it would otherwise read the whole body once to hash
// it before sending. The 1 GiB uploads use it, so neither the client nor the
// server spends CPU on a payload hash.
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

// newS3Client returns an S3 client for the path-style endpoint, signing
// with static credentials. All requests share one transport with up to
// maxIdle idle connections to the server.
//
// Checksums are computed and validated only where an operation requires
// them, so neither server receives CRC32 headers or trailers, and the SDK
// does not retry: a failed request fails the benchmark.
func newS3Client(endpoint, accessKey, secretKey string, maxIdle int) (*s3.Client, *http.Client) {
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
	httpClient := &http.Client{Transport: transport}
	client := s3.New(s3.Options{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		HTTPClient:                 httpClient,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		Retryer:                    aws.NopRetryer{},
	})
	return client, httpClient
}

// waitReady calls ListBuckets until it succeeds or limit passes, which
// also checks the credentials.
func waitReady(ctx context.Context, client *s3.Client, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		_, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("S3 server not ready after %s: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// createBucket creates a bucket for one workload.
func createBucket(ctx context.Context, client *s3.Client, bucket string) error {
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}
