package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

func newTrustCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "trust s3://bucket/key | REPOSITORY[:TAG|@DIGEST] | sha256:DIGEST",
		Short: "Show whether an object, image or digest is signed and verified",
		Long: `Show the supply-chain status of an object's current content, of a manifest or of
any stored digest: its signatures and whether they verify against a trust store,
its SBOMs and its attestations. For an object it also lists the attachments, and
marks those made for content the object no longer has.`,
		Example: `  coffer trust s3://reports/2026/report.bin
  coffer trust demo/app:1.0
  coffer trust -o json sha256:7aedb16936a84604b499e0cac3e13bbb3d1744710f8a2d5ad7346c6079d799a6`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.newClient(ctx)
			if err != nil {
				return err
			}
			var status client.TrustStatus
			switch arg := args[0]; {
			case strings.HasPrefix(arg, remotePrefix):
				l, err := parseRemote(arg, true)
				if err != nil {
					return err
				}
				status, err = c.ObjectTrust(ctx, l.bucket, l.key)
				if err != nil {
					return err
				}
			case strings.HasPrefix(arg, "sha256:"):
				if status, err = c.ArtifactTrust(ctx, arg); err != nil {
					return err
				}
			default:
				ref, err := parseReference(arg, a.settings.Server, false)
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
				if status, err = c.ArtifactTrust(ctx, digest); err != nil {
					return err
				}
			}
			if a.jsonOutput() {
				return a.printJSON(status)
			}
			printTrust(a.streams.Out, status)
			return nil
		},
	}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// printTrust writes the status as one line per item.
func printTrust(w io.Writer, s client.TrustStatus) {
	fmt.Fprintf(w, "Digest:   %s\nSigned:   %s\nVerified: %s\n", s.Digest, yesNo(s.Signed), yesNo(s.Verified))
	for _, sig := range s.Signatures {
		fmt.Fprintf(w, "signature    %s  %s  %s\n", sig.Format, verdict(sig.Verified, sig.Signer, sig.Error), sig.Repository)
	}
	for _, att := range s.Attestations {
		fmt.Fprintf(w, "attestation  %s  %s  %s\n", att.PredicateType, verdict(att.Verified, att.Signer, att.Error), att.Repository)
	}
	for _, sbom := range s.SBOMs {
		state := fmt.Sprintf("valid, %d packages", sbom.Packages)
		if !sbom.Valid {
			state = "invalid: " + sbom.Error
		}
		fmt.Fprintf(w, "sbom         %s  %s  %s\n", sbom.Format, state, sbom.Repository)
	}
	for _, att := range s.Attachments {
		state := "current"
		if !att.Current {
			state = "not current: " + att.Error
		}
		fmt.Fprintf(w, "attachment   %s  %s  %s\n", att.Digest, att.MediaType, state)
	}
}

func verdict(verified bool, signer, reason string) string {
	if verified {
		return "verified by " + signer
	}
	return "not verified: " + reason
}
