package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// lsFlags are the flags of coffer ls.
type lsFlags struct {
	recursive bool
}

func newLsCommand(a *app) *cobra.Command {
	var f lsFlags
	cmd := &cobra.Command{
		Use:   "ls [s3://bucket[/prefix]]",
		Short: "List buckets, or the objects in a bucket",
		Long: `Without an argument, list the buckets. With s3://bucket/prefix, list the
objects whose keys start with prefix, grouping keys with a further / into
folders (PRE lines) unless --recursive is set.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return a.listBuckets(cmd.Context())
			}
			l, err := parseRemote(args[0], false)
			if err != nil {
				return err
			}
			return a.listObjects(cmd.Context(), f, l)
		},
	}
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "r", false, "list every key below the prefix instead of grouping by /")
	return cmd
}

func (a *app) listBuckets(ctx context.Context) error {
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}
	buckets, err := c.Buckets(ctx)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(buckets)
	}
	for _, b := range buckets {
		fmt.Fprintf(a.streams.Out, "%s  s3://%s\n", formatTime(b.Created), b.Name)
	}
	return nil
}

// objectListing is the JSON output of ls on a bucket.
type objectListing struct {
	Objects  []client.Object `json:"objects"`
	Prefixes []string        `json:"prefixes"`
}

func (a *app) listObjects(ctx context.Context, f lsFlags, l location) error {
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}
	opts := client.ListOptions{Prefix: l.key, Limit: 1000}
	if !f.recursive {
		opts.Delimiter = "/"
	}
	listing := objectListing{Objects: []client.Object{}, Prefixes: []string{}}
	for {
		page, err := c.ListObjects(ctx, l.bucket, opts)
		if err != nil {
			return err
		}
		listing.Objects = append(listing.Objects, page.Items...)
		listing.Prefixes = append(listing.Prefixes, page.CommonPrefixes...)
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	if a.jsonOutput() {
		return a.printJSON(listing)
	}
	w := tabwriter.NewWriter(a.streams.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, p := range listing.Prefixes {
		fmt.Fprintf(w, "\tPRE\t%s\t\n", p)
	}
	for _, o := range listing.Objects {
		fmt.Fprintf(w, "%s\t%d\t%s\t\n", formatTime(o.Modified), o.Size, o.Key)
	}
	return w.Flush()
}
