package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// attachFlags are the flags of coffer attach.
type attachFlags struct {
	mediaType    string
	artifactType string
	list         bool
	remove       string
}

// attachMediaTypes maps file name endings to the media type of the
// document, for files attached without --media-type.
var attachMediaTypes = []struct{ suffix, mediaType string }{
	{".sigstore.json", "application/vnd.dev.sigstore.bundle.v0.3+json"},
	{".bundle", "application/vnd.dev.sigstore.bundle.v0.3+json"},
	{".spdx.json", "application/spdx+json"},
	{".spdx", "text/spdx"},
	{".cdx.json", "application/vnd.cyclonedx+json"},
	{".cdx.xml", "application/vnd.cyclonedx+xml"},
	{".intoto.jsonl", "application/vnd.dsse.envelope.v1+json"},
	{".dsse.json", "application/vnd.dsse.envelope.v1+json"},
}

// mediaTypeOf returns the media type that the file name's ending implies.
func mediaTypeOf(path string) (string, bool) {
	lower := strings.ToLower(path)
	for _, entry := range attachMediaTypes {
		if strings.HasSuffix(lower, entry.suffix) {
			return entry.mediaType, true
		}
	}
	return "", false
}

func newAttachCommand(a *app) *cobra.Command {
	var f attachFlags
	cmd := &cobra.Command{
		Use:   "attach s3://bucket/key [FILE...]",
		Short: "Attach signatures, SBOMs and attestations to an object",
		Long: `Attach signatures, SBOMs and attestations to an object's current content,
list them (--list) or delete one (--delete DIGEST).

The media type comes from --media-type or the file name: *.sigstore.json and
*.bundle are Sigstore bundles (cosign sign-blob --bundle, attest-blob --bundle),
*.spdx.json and *.spdx SPDX, *.cdx.json and *.cdx.xml CycloneDX, *.intoto.jsonl
and *.dsse.json DSSE envelopes. Each file is at most 4 MiB.`,
		Example: `  cosign sign-blob --key cosign.key --bundle report.bin.sigstore.json report.bin
  coffer attach s3://reports/2026/report.bin report.bin.sigstore.json sbom.cdx.json
  coffer attach --list s3://reports/2026/report.bin`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseRemote(args[0], true)
			if err != nil {
				return err
			}
			files := args[1:]
			switch {
			case f.list && (f.remove != "" || len(files) > 0):
				return usageError{fmt.Errorf("--list takes no files and no --delete")}
			case f.remove != "" && len(files) > 0:
				return usageError{fmt.Errorf("--delete takes no files")}
			case !f.list && f.remove == "" && len(files) == 0:
				return usageError{fmt.Errorf("name the files to attach, or use --list or --delete DIGEST")}
			}
			c, err := a.newClient(cmd.Context())
			if err != nil {
				return err
			}
			switch {
			case f.list:
				return a.listAttachments(cmd, c, l)
			case f.remove != "":
				return c.DeleteAttachment(cmd.Context(), l.bucket, l.key, f.remove)
			}
			return a.attachFiles(cmd, c, l, files, f)
		},
	}
	cmd.Flags().StringVar(&f.mediaType, "media-type", "", "media type of every file, such as application/vnd.dev.sigstore.bundle.v0.3+json; default: from the file name")
	cmd.Flags().StringVar(&f.artifactType, "artifact-type", "", "artifact type of the attachments; default: the media type")
	cmd.Flags().BoolVar(&f.list, "list", false, "list the object's attachments")
	cmd.Flags().StringVar(&f.remove, "delete", "", "delete the attachment with this digest")
	return cmd
}

func (a *app) attachFiles(cmd *cobra.Command, c *client.Client, l location, files []string, f attachFlags) error {
	var attached []client.Attachment
	for _, path := range files {
		mediaType := f.mediaType
		if mediaType == "" {
			var ok bool
			if mediaType, ok = mediaTypeOf(path); !ok {
				return usageError{fmt.Errorf("cannot tell the media type of %s from its name; set --media-type", path)}
			}
		}
		document, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		att, err := c.Attach(cmd.Context(), l.bucket, l.key, mediaType, document, client.AttachOptions{ArtifactType: f.artifactType})
		if err != nil {
			return fmt.Errorf("attach %s: %w", path, err)
		}
		attached = append(attached, att)
		if !a.jsonOutput() {
			fmt.Fprintf(a.streams.Out, "%s  %s  %s\n", att.Digest, att.MediaType, path)
		}
	}
	if a.jsonOutput() {
		return a.printJSON(attached)
	}
	return nil
}

func (a *app) listAttachments(cmd *cobra.Command, c *client.Client, l location) error {
	list, err := c.Attachments(cmd.Context(), l.bucket, l.key)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(list)
	}
	for _, att := range list {
		fmt.Fprintf(a.streams.Out, "%s  %s  %d  subject %s\n", att.Digest, att.MediaType, att.Size, att.Subject)
	}
	return nil
}
