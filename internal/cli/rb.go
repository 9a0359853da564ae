package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// rbFlags are the flags of coffer rb.
type rbFlags struct {
	force bool
}

func newRbCommand(a *app) *cobra.Command {
	var f rbFlags
	cmd := &cobra.Command{
		Use:   "rb s3://bucket",
		Short: "Delete a bucket",
		Long:  `Delete an empty bucket, or with --force a bucket and everything in it.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseRemote(args[0], false)
			if err != nil {
				return err
			}
			c, err := a.newClient(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteBucket(cmd.Context(), l.bucket, client.DeleteBucketOptions{Recursive: f.force}); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(map[string]string{"deleted": l.bucket})
			}
			fmt.Fprintf(a.streams.Out, "deleted bucket %s\n", l.bucket)
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.force, "force", false, "delete every object and upload in the bucket first")
	return cmd
}
