package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// rmFlags are the flags of coffer rm.
type rmFlags struct {
	recursive bool
}

func newRmCommand(a *app) *cobra.Command {
	var f rmFlags
	cmd := &cobra.Command{
		Use:   "rm s3://bucket/key",
		Short: "Delete objects",
		Long:  `Delete an object, or with --recursive every object whose key starts with the prefix.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseRemote(args[0], !f.recursive)
			if err != nil {
				return err
			}
			return a.runRm(cmd.Context(), f, l)
		},
	}
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "r", false, "delete every object below the prefix")
	return cmd
}

func (a *app) runRm(ctx context.Context, f rmFlags, l location) error {
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}
	keys := []string{l.key}
	if f.recursive {
		keys = nil
		prefix := l.key
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		for o, err := range c.AllObjects(ctx, l.bucket, client.ListOptions{Prefix: prefix, Limit: 1000}) {
			if err != nil {
				return err
			}
			keys = append(keys, o.Key)
		}
	}
	deleted := []string{}
	for _, key := range keys {
		if err := c.DeleteObject(ctx, l.bucket, key); err != nil {
			return err
		}
		deleted = append(deleted, remotePrefix+l.bucket+"/"+key)
	}
	if a.jsonOutput() {
		return a.printJSON(map[string][]string{"deleted": deleted})
	}
	for _, d := range deleted {
		fmt.Fprintf(a.streams.Out, "deleted %s\n", d)
	}
	return nil
}
