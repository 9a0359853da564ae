package cli

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// pullFlags are the flags of coffer pull.
type pullFlags struct {
	directory string
}

func newPullCommand(a *app) *cobra.Command {
	var f pullFlags
	cmd := &cobra.Command{
		Use:   "pull REPOSITORY[:TAG|@DIGEST]",
		Short: "Pull the files of an OCI artifact",
		Long: `Write the layers of an OCI artifact into a folder, each under its
org.opencontainers.image.title annotation. Each file is checked against
its digest before it replaces an existing file, and an interrupted pull
continues where it stopped. The tag defaults to latest.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runPull(cmd.Context(), f, args[0])
		},
	}
	cmd.Flags().StringVarP(&f.directory, "directory", "d", ".", "folder to write the files into")
	return cmd
}

// pullResult is the JSON output of pull.
type pullResult struct {
	Reference string       `json:"reference"`
	Files     []pulledFile `json:"files"`
}

// pulledFile is one file of a pull.
type pulledFile struct {
	Path string `json:"path"`
}

func (a *app) runPull(ctx context.Context, f pullFlags, refArg string) error {
	ref, err := parseReference(refArg, a.settings.Server, false)
	if err != nil {
		return err
	}
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}
	bars := a.newProgress()
	tracker := newBarTracker(bars)
	paths, err := c.PullFiles(ctx, ref.repo, ref.tag, f.directory, client.PullFilesOptions{
		Size:     func(path string, size int64) { tracker.add(path, filepath.Base(path), size) },
		Progress: tracker.update,
	})
	tracker.finish(err == nil)
	bars.wait()
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		files := []pulledFile{}
		for _, p := range paths {
			files = append(files, pulledFile{Path: p})
		}
		return a.printJSON(pullResult{Reference: ref.String(), Files: files})
	}
	for _, p := range paths {
		fmt.Fprintf(a.streams.Out, "pulled %s\n", p)
	}
	return nil
}
