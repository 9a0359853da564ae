package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// newLogoutCommand returns coffer logout, which has no flags of its own.
func newLogoutCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Remove the stored credentials of the server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store := a.credentials()
			_, found, err := store.get(a.settings.Server)
			if err != nil {
				return err
			}
			if err := store.put(a.settings.Server, nil); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(map[string]any{"server": a.settings.Server, "removed": found})
			}
			if !found {
				fmt.Fprintf(a.streams.Out, "No credentials stored for %s\n", a.settings.Server)
				return nil
			}
			fmt.Fprintf(a.streams.Out, "Removed the credentials of %s\n", a.settings.Server)
			return nil
		},
	}
}
