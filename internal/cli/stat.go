package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newStatCommand returns coffer stat, which has no flags of its own.
func newStatCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "stat s3://bucket/key",
		Short: "Show an object's size, digest and type",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseRemote(args[0], true)
			if err != nil {
				return err
			}
			c, err := a.newClient(cmd.Context())
			if err != nil {
				return err
			}
			o, err := c.StatObject(cmd.Context(), l.bucket, l.key)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(o)
			}
			fmt.Fprintf(a.streams.Out, "Key:          s3://%s/%s\nSize:         %d\nDigest:       %s\nETag:         %s\nContent-Type: %s\nModified:     %s\n",
				o.Bucket, o.Key, o.Size, o.Digest, o.ETag, o.ContentType, formatTime(o.Modified))
			return nil
		},
	}
}
