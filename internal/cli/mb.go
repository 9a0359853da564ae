package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newMbCommand returns coffer mb, which has no flags of its own.
func newMbCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "mb s3://bucket",
		Short: "Create a bucket",
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
			if err := c.CreateBucket(cmd.Context(), l.bucket); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(map[string]string{"created": l.bucket})
			}
			fmt.Fprintf(a.streams.Out, "created bucket %s\n", l.bucket)
			return nil
		},
	}
}
