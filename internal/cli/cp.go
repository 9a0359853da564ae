package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/cofferhq/coffer/pkg/client"
)

// cpFlags are the flags of coffer cp.
type cpFlags struct {
	recursive   bool
	contentType string
}

func newCpCommand(a *app) *cobra.Command {
	var f cpFlags
	cmd := &cobra.Command{
		Use:   "cp SOURCE DESTINATION",
		Short: "Copy files to, from and between buckets",
		Long: `Copy a local file to an object, an object to a local file, or an object to
another object. Objects are written as s3://bucket/key.

A destination key that is empty or ends in / gets the source's file name.
With --recursive, SOURCE is a folder or a key prefix, and every file or
object below it is copied, --parallel at a time.

Uploads larger than --chunk-size-mib go through a resumable session: when
coffer is interrupted, running the same command again continues from the
bytes the server already holds. Downloads larger than 16 MiB are fetched in
16 MiB ranges, --download-parts at a time, into a hidden partial file that
a rerun continues with the missing ranges; the file appears under its name
only after its SHA-256 digest is verified.`,
		Example: `  coffer cp release.tar.gz s3://releases/v1.2/
  coffer cp s3://releases/v1.2/release.tar.gz .
  coffer cp --recursive ./site s3://www/
  coffer cp s3://releases/v1.2/release.tar.gz s3://archive/2026/`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCp(cmd.Context(), f, args[0], args[1])
		},
	}
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "r", false, "copy every file below a folder or every object below a prefix")
	cmd.Flags().StringVar(&f.contentType, "content-type", "", "Content-Type stored with uploaded objects (default none)")
	return cmd
}

// transfer is one file or object copied by cp.
type transfer struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Size        int64  `json:"size"`
	Digest      string `json:"digest"`
}

// cpJob copies one item; it reports the bytes moved through its bar.
type cpJob struct {
	source, destination location
}

func (a *app) runCp(ctx context.Context, f cpFlags, sourceArg, destinationArg string) error {
	source, destination := parseLocation(sourceArg), parseLocation(destinationArg)
	if !source.remote && !destination.remote {
		return usageError{errors.New("cp needs an object location (s3://bucket/key) as source or destination; use your shell to copy local files")}
	}
	for _, l := range []location{source, destination} {
		if l.remote && l.bucket == "" {
			return usageError{fmt.Errorf("%s names no bucket: expected s3://bucket/key", l)}
		}
	}
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}
	jobs, err := a.planCp(ctx, c, f, source, destination)
	if err != nil {
		return err
	}
	results, err := a.runJobs(ctx, c, f, jobs)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(results)
	}
	for _, r := range results {
		fmt.Fprintf(a.streams.Out, "copied %s to %s (%d bytes, %s)\n", r.Source, r.Destination, r.Size, r.Digest)
	}
	return nil
}

// planCp lists what to copy.
func (a *app) planCp(ctx context.Context, c *client.Client, f cpFlags, source, destination location) ([]cpJob, error) {
	if !f.recursive {
		return []cpJob{{source: source, destination: singleDestination(source, destination)}}, nil
	}
	if !source.remote {
		return planUploadTree(source, destination)
	}
	prefix := source.key
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	var jobs []cpJob
	for o, err := range c.AllObjects(ctx, source.bucket, client.ListOptions{Prefix: prefix, Limit: 1000}) {
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(o.Key, prefix)
		job := cpJob{source: location{remote: true, bucket: source.bucket, key: o.Key}}
		if destination.remote {
			job.destination = location{remote: true, bucket: destination.bucket, key: joinKey(destination.key, rel)}
		} else {
			local := filepath.Join(destination.path, filepath.FromSlash(rel))
			if !filepath.IsLocal(filepath.FromSlash(rel)) {
				return nil, fmt.Errorf("key %q does not map to a path inside %s; copy it on its own", o.Key, destination.path)
			}
			job.destination = location{path: local}
		}
		jobs = append(jobs, job)
	}
	return jobs, nil
}

// singleDestination completes a destination that names a folder or a key
// prefix with the source's name.
func singleDestination(source, destination location) location {
	name := path.Base(source.key)
	if !source.remote {
		name = filepath.Base(source.path)
	}
	if destination.remote {
		if destination.key == "" || strings.HasSuffix(destination.key, "/") {
			destination.key += name
		}
		return destination
	}
	if info, err := os.Stat(destination.path); (err == nil && info.IsDir()) || strings.HasSuffix(destination.path, string(filepath.Separator)) {
		destination.path = filepath.Join(destination.path, name)
	}
	return destination
}

func planUploadTree(source, destination location) ([]cpJob, error) {
	var jobs []cpJob
	err := filepath.WalkDir(source.path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(source.path, p)
		if err != nil {
			return err
		}
		jobs = append(jobs, cpJob{
			source:      location{path: p},
			destination: location{remote: true, bucket: destination.bucket, key: joinKey(destination.key, filepath.ToSlash(rel))},
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", source.path, err)
	}
	return jobs, nil
}

func joinKey(prefix, rel string) string {
	if prefix == "" || strings.HasSuffix(prefix, "/") {
		return prefix + rel
	}
	return prefix + "/" + rel
}

// runJobs copies the jobs, Parallel at a time, and returns the results in
// the order of the jobs.
func (a *app) runJobs(ctx context.Context, c *client.Client, f cpFlags, jobs []cpJob) ([]transfer, error) {
	bars := a.newProgress()
	results := make([]transfer, len(jobs))
	group, ctx := errgroup.WithContext(ctx)
	group.SetLimit(a.settings.Parallel)
	var mu sync.Mutex
	for i, job := range jobs {
		group.Go(func() error {
			o, err := a.copyOne(ctx, c, f, job, bars)
			if err != nil {
				return err
			}
			mu.Lock()
			results[i] = transfer{Source: job.source.String(), Destination: job.destination.String(), Size: o.Size, Digest: o.Digest}
			mu.Unlock()
			return nil
		})
	}
	err := group.Wait()
	bars.wait()
	return results, err
}

func (a *app) copyOne(ctx context.Context, c *client.Client, f cpFlags, job cpJob, bars *progress) (client.Object, error) {
	switch {
	case job.source.remote && job.destination.remote:
		return c.CopyObject(ctx, job.source.bucket, job.source.key, job.destination.bucket, job.destination.key)
	case job.source.remote:
		return a.download(ctx, c, job, bars)
	}
	return a.upload(ctx, c, f, job, bars)
}

func (a *app) download(ctx context.Context, c *client.Client, job cpJob, bars *progress) (client.Object, error) {
	if err := os.MkdirAll(filepath.Dir(job.destination.path), 0o755); err != nil {
		return client.Object{}, err
	}
	var update func(int64)
	var done func(bool)
	o, err := c.DownloadFile(ctx, job.source.bucket, job.source.key, job.destination.path, client.DownloadOptions{
		Size:     func(size int64) { update, done = bars.bar(job.source.key, size) },
		Progress: func(n int64) { update(n) },
		Parallel: a.settings.DownloadParts,
	})
	if done != nil {
		done(err == nil)
	}
	return o, err
}

func (a *app) upload(ctx context.Context, c *client.Client, f cpFlags, job cpJob, bars *progress) (client.Object, error) {
	file, err := os.Open(job.source.path)
	if err != nil {
		return client.Object{}, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return client.Object{}, err
	}
	if info.IsDir() {
		return client.Object{}, usageError{fmt.Errorf("%s is a folder: use cp --recursive to copy its files", job.source.path)}
	}
	update, done := bars.bar(filepath.Base(job.source.path), info.Size())
	opts := client.PutOptions{Size: info.Size(), ContentType: f.contentType, Progress: update}
	state := a.uploadState(job, info)
	if info.Size() > int64(a.settings.ChunkSizeMiB)<<20 {
		opts.SessionID = state.load()
		opts.OnSession = state.save
	}
	o, err := c.PutObject(ctx, job.destination.bucket, job.destination.key, file, opts)
	done(err == nil)
	if err == nil {
		state.remove()
	}
	return o, err
}
