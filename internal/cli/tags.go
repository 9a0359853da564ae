package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// newTagsCommand returns coffer tags, which has no flags of its own.
func newTagsCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "tags REPOSITORY",
		Short: "List the tags of a repository",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.newClient(ctx)
			if err != nil {
				return err
			}
			tags := []string{}
			opts := client.TagOptions{Limit: 1000}
			for {
				page, err := c.Tags(ctx, args[0], opts)
				if err != nil {
					return err
				}
				tags = append(tags, page.Tags...)
				if page.Next == "" {
					break
				}
				opts.Last = page.Next
			}
			if a.jsonOutput() {
				return a.printJSON(map[string]any{"repository": args[0], "tags": tags})
			}
			for _, tag := range tags {
				fmt.Fprintln(a.streams.Out, tag)
			}
			return nil
		},
	}
}
