package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// newUsageCommand returns coffer usage, which has no flags of its own.
func newUsageCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "usage s3://bucket | REPOSITORY",
		Short: "Show the bytes and counts a bucket or repository accounts for",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if l := parseLocation(args[0]); l.remote {
					u, err := c.BucketUsage(ctx, l.bucket)
					if err != nil {
						return err
					}
					if a.jsonOutput() {
						return a.printJSON(u)
					}
					fmt.Fprintf(a.streams.Out, "Bucket:            %s\nObjects:           %d\nObject bytes:      %d\nMultipart uploads: %d\nMultipart bytes:   %d\nTotal bytes:       %d\n",
						u.Bucket, u.Objects, u.ObjectBytes, u.MultipartUploads, u.MultipartBytes, u.TotalBytes)
					return nil
				}
				u, err := c.RepositoryUsage(ctx, args[0])
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(u)
				}
				fmt.Fprintf(a.streams.Out, "Repository:     %s\nManifests:      %d\nManifest bytes: %d\nTags:           %d\nBlobs:          %d\nBlob bytes:     %d\nTotal bytes:    %d\n",
					u.Repository, u.Manifests, u.ManifestBytes, u.Tags, u.Blobs, u.BlobBytes, u.TotalBytes)
				return nil
			})
		},
	}
}
