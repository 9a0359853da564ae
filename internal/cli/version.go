package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

// versionFlags are the flags of coffer version.
type versionFlags struct {
	serverVersion bool
}

func newVersionCommand(a *app) *cobra.Command {
	var f versionFlags
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of coffer and, with --server-version, of the server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := map[string]string{"client": Version, "go": runtime.Version()}
			if f.serverVersion {
				c, err := a.newClient(cmd.Context())
				if err != nil {
					return err
				}
				info, err := c.SystemInfo(cmd.Context())
				if err != nil {
					return err
				}
				out["server"] = info.Version
			}
			if a.jsonOutput() {
				return a.printJSON(out)
			}
			fmt.Fprintf(a.streams.Out, "coffer %s (%s)\n", out["client"], out["go"])
			if f.serverVersion {
				fmt.Fprintf(a.streams.Out, "server %s\n", out["server"])
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&f.serverVersion, "server-version", false, "also ask the server for its version")
	return cmd
}
