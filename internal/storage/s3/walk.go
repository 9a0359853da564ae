package s3

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cofferhq/coffer/internal/storage"
)

// Walk calls fn for prefix itself, when it is a key, or else for every key
// below "prefix/", listing them with ListObjectsV2. S3 lists object names in
// UTF-8 binary order, which for the key grammar is the byte order in which
// Go compares strings, so keys arrive in lexical order. Objects whose names
// fall outside the key grammar are skipped.
//
// Each page of 1,000 names is a separate request, so keys created or deleted
// during the walk may or may not be visited.
func (d *Driver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if prefix == "" {
		return d.walkObjects(ctx, prefix, d.root, fn)
	}
	if err := storage.ValidateKey(prefix); err != nil {
		return err
	}

	obj, err := d.head(ctx, prefix)
	switch {
	case err == nil:
		return fn(obj.info)
	case !isNotFound(err):
		return requestError(ctx, fmt.Sprintf("walk %q", prefix), err)
	}
	return d.walkObjects(ctx, prefix, d.objectKey(prefix)+"/", fn)
}

// walkObjects calls fn for every key whose object name starts with objectPrefix.
func (d *Driver) walkObjects(ctx context.Context, prefix, objectPrefix string, fn func(storage.Info) error) error {
	pages := awss3.NewListObjectsV2Paginator(d.client, &awss3.ListObjectsV2Input{
		Bucket: aws.String(d.bucket),
		Prefix: aws.String(objectPrefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return requestError(ctx, fmt.Sprintf("walk %q", prefix), err)
		}
		for _, obj := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(obj.Key), d.root)
			if storage.ValidateKey(key) != nil {
				continue
			}
			info := storage.Info{Key: key, Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified)}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// deletePrefix deletes every object whose name starts with the object name
// of prefix followed by a slash, 1,000 per DeleteObjects request, and
// returns how many it deleted. Each listing starts after the last name
// deleted, so it does not depend on continuation tokens surviving deletes.
func (d *Driver) deletePrefix(ctx context.Context, prefix string) (int, error) {
	in := &awss3.ListObjectsV2Input{
		Bucket:  aws.String(d.bucket),
		Prefix:  aws.String(d.objectKey(prefix) + "/"),
		MaxKeys: aws.Int32(1000),
	}
	deleted := 0
	for {
		page, err := d.client.ListObjectsV2(ctx, in)
		if err != nil {
			return deleted, err
		}
		if len(page.Contents) == 0 {
			return deleted, nil
		}
		if err := d.deleteObjects(ctx, page.Contents); err != nil {
			return deleted, err
		}
		deleted += len(page.Contents)
		if !aws.ToBool(page.IsTruncated) {
			return deleted, nil
		}
		in.StartAfter = page.Contents[len(page.Contents)-1].Key
	}
}

// deleteObjects deletes objects, at most 1,000, with one DeleteObjects request.
func (d *Driver) deleteObjects(ctx context.Context, objects []types.Object) error {
	ids := make([]types.ObjectIdentifier, len(objects))
	for i, obj := range objects {
		ids[i] = types.ObjectIdentifier{Key: obj.Key}
	}
	out, err := d.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
		Bucket: aws.String(d.bucket),
		Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return err
	}
	if len(out.Errors) > 0 {
		first := out.Errors[0]
		return fmt.Errorf("delete %d of %d objects failed, the first %q with %s: %s",
			len(out.Errors), len(ids), aws.ToString(first.Key), aws.ToString(first.Code), aws.ToString(first.Message))
	}
	return nil
}

// checkPlacement returns an error when storing key would make it both a key
// and a prefix: when one of its parents is an object, or objects are stored
// below "key/". It sends one HeadObject per parent and one ListObjectsV2,
// all at once.
func (d *Driver) checkPlacement(ctx context.Context, key string) error {
	parents := parentKeys(key)
	errs := make([]error, len(parents)+1)

	var wg sync.WaitGroup
	for i, parent := range parents {
		wg.Go(func() { errs[i] = d.checkNotKey(ctx, key, parent) })
	}
	wg.Go(func() { errs[len(parents)] = d.checkNotPrefix(ctx, key) })
	wg.Wait()

	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkNotKey returns an error when parent, a parent of key, is a key.
func (d *Driver) checkNotKey(ctx context.Context, key, parent string) error {
	_, err := d.head(ctx, parent)
	switch {
	case err == nil:
		return fmt.Errorf("key %q cannot be stored below key %q; delete %q first", key, parent, parent)
	case isNotFound(err):
		return nil
	}
	return requestError(ctx, fmt.Sprintf("check parent %q", parent), err)
}

// checkNotPrefix returns an error when objects are stored below "key/".
func (d *Driver) checkNotPrefix(ctx context.Context, key string) error {
	out, err := d.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket:  aws.String(d.bucket),
		Prefix:  aws.String(d.objectKey(key) + "/"),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return requestError(ctx, fmt.Sprintf("list below %q", key), err)
	}
	if len(out.Contents) > 0 {
		below := strings.TrimPrefix(aws.ToString(out.Contents[0].Key), d.root)
		return fmt.Errorf("key %q is the prefix of stored keys such as %q; delete them first", key, below)
	}
	return nil
}

// parentKeys returns the parents of key, shortest first: "a" and "a/b" for "a/b/c".
func parentKeys(key string) []string {
	var parents []string
	for i := range len(key) {
		if key[i] == '/' {
			parents = append(parents, key[:i])
		}
	}
	return parents
}
