package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// accessKeyCreateFlags are the flags of coffer access-key create.
type accessKeyCreateFlags struct {
	description string
	expires     time.Duration
	policyFile  string
}

func newAccessKeyCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "access-key",
		Short: "Manage S3 access keys",
		Long: `Create, list and delete S3 access keys: an access key ID and secret for AWS
Signature Version 4 clients such as the AWS CLI, boto3 or rclone. A key acts
as its owner, narrowed by its optional IAM policy.`,
	}
	cmd.AddCommand(newAccessKeyCreateCommand(a), newAccessKeyListCommand(a), newAccessKeyDeleteCommand(a))
	return cmd
}

func newAccessKeyCreateCommand(a *app) *cobra.Command {
	var f accessKeyCreateFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an S3 access key",
		Long: `Create an S3 access key for the logged-in principal. The secret access key
is printed once, now; the server does not show it again.

--policy names a file with an AWS IAM policy document that narrows the key.`,
		Example: `  coffer access-key create --description "backup job" --expires 2160h --policy read-releases.json
  export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
  aws --endpoint-url http://127.0.0.1:9000 s3 ls s3://releases/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := client.CreateAccessKeyOptions{Description: f.description}
			switch {
			case f.expires < 0:
				return usageError{fmt.Errorf("--expires %s: expected a positive duration such as 2160h, or 0 for no expiry", f.expires)}
			case f.expires > 0:
				opts.ExpiresAt = time.Now().Add(f.expires).Truncate(time.Second)
			}
			if f.policyFile != "" {
				policy, err := os.ReadFile(f.policyFile)
				if err != nil {
					return usageError{fmt.Errorf("read --policy: %w", err)}
				}
				if !json.Valid(policy) {
					return usageError{fmt.Errorf("--policy %s: the file is not JSON; expected an AWS IAM policy document", f.policyFile)}
				}
				opts.Policy = policy
			}
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				k, err := c.CreateAccessKey(ctx, opts)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(k)
				}
				fmt.Fprintf(a.streams.Out, "Access key ID:     %s\nSecret access key: %s\nExpires:           %s\n", k.ID, k.Secret, formatTimePointer(k.ExpiresAt))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.description, "description", "", "note on the key's use, shown in listings")
	cmd.Flags().DurationVar(&f.expires, "expires", 0, "lifetime of the key, such as 2160h; 0 for a key that does not expire")
	cmd.Flags().StringVar(&f.policyFile, "policy", "", "file with an AWS IAM policy document that narrows the key (default: all the owner may do)")
	return cmd
}

func formatTimePointer(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return formatTime(*t)
}

func newAccessKeyListCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List S3 access keys without their secrets",
		Long:    `List the logged-in principal's S3 access keys; the root user sees every key.`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				keys, err := c.AccessKeys(ctx)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(keys)
				}
				for _, k := range keys {
					fmt.Fprintf(a.streams.Out, "%s  %s  created %s  expires %s  %s  %s\n",
						k.ID, k.Status, formatTime(k.Created), formatTimePointer(k.ExpiresAt), k.Owner, k.Description)
				}
				return nil
			})
		},
	}
}

func newAccessKeyDeleteCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"delete"},
		Short:   "Delete (revoke) an S3 access key",
		Long:    `Revoke an S3 access key at once; requests signed with it fail from then on.`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if err := c.DeleteAccessKey(ctx, args[0]); err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(map[string]string{"deleted": args[0]})
				}
				fmt.Fprintf(a.streams.Out, "deleted access key %s\n", args[0])
				return nil
			})
		},
	}
}
