package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// newDocsCommand returns the hidden command that writes the reference
// pages of docs/cli; it has no flags.
func newDocsCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs FOLDER",
		Short:  "Write the Markdown reference of every command into FOLDER",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pages := ReferencePages(cmd.Root())
			for name, content := range pages {
				if err := os.WriteFile(filepath.Join(args[0], name), content, 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// ReferencePages renders one Markdown page per visible command, keyed by
// file name (coffer_cp.md for "coffer cp").
func ReferencePages(root *cobra.Command) map[string][]byte {
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	pages := map[string][]byte{}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Hidden || cmd.Name() == "help" {
			return
		}
		pages[pageName(cmd)] = renderPage(cmd)
		for _, child := range cmd.Commands() {
			walk(child)
		}
	}
	walk(root)
	return pages
}

func pageName(cmd *cobra.Command) string {
	return strings.ReplaceAll(cmd.CommandPath(), " ", "_") + ".md"
}

func renderPage(cmd *cobra.Command) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n%s\n\n", cmd.CommandPath(), cmd.Short)
	if cmd.Long != "" {
		fmt.Fprintf(&b, "%s\n\n", cmd.Long)
	}
	if cmd.Runnable() {
		fmt.Fprintf(&b, "```\n%s\n```\n\n", cmd.UseLine())
	}
	if cmd.Example != "" {
		fmt.Fprintf(&b, "## Examples\n\n```\n%s\n```\n\n", cmd.Example)
	}
	if flags := cmd.NonInheritedFlags(); flags.HasAvailableFlags() {
		fmt.Fprintf(&b, "## Options\n\n```\n%s```\n\n", flags.FlagUsages())
	}
	if flags := cmd.InheritedFlags(); flags.HasAvailableFlags() {
		fmt.Fprintf(&b, "## Options inherited from parent commands\n\n```\n%s```\n\n", flags.FlagUsages())
	}
	b.WriteString("## See also\n\n")
	if cmd.HasParent() {
		parent := cmd.Parent()
		fmt.Fprintf(&b, "- [%s](%s): %s\n", parent.CommandPath(), pageName(parent), parent.Short)
	}
	for _, child := range cmd.Commands() {
		if child.Hidden || child.Name() == "help" {
			continue
		}
		fmt.Fprintf(&b, "- [%s](%s): %s\n", child.CommandPath(), pageName(child), child.Short)
	}
	return b.Bytes()
}
