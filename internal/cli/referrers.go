package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// referrersFlags are the flags of coffer referrers.
type referrersFlags struct {
	artifactType string
}

func newReferrersCommand(a *app) *cobra.Command {
	var f referrersFlags
	cmd := &cobra.Command{
		Use:   "referrers REPOSITORY[:TAG|@DIGEST]",
		Short: "List the artifacts attached to a manifest",
		Long:  `List the signatures, SBOMs, attestations and other artifacts whose subject is the manifest.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			ref, err := parseReference(args[0], a.settings.Server, false)
			if err != nil {
				return err
			}
			c, err := a.newClient(ctx)
			if err != nil {
				return err
			}
			digest := ref.tag
			if !strings.HasPrefix(digest, "sha256:") {
				_, desc, err := c.FetchManifest(ctx, ref.repo, ref.tag)
				if err != nil {
					return err
				}
				digest = desc.Digest
			}
			referrers, err := c.Referrers(ctx, ref.repo, digest, client.ReferrersOptions{ArtifactType: f.artifactType})
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(referrers)
			}
			for _, r := range referrers {
				fmt.Fprintf(a.streams.Out, "%s  %s  %d\n", r.Digest, r.ArtifactType, r.Size)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.artifactType, "artifact-type", "", "list only referrers of this artifact type")
	return cmd
}
