package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// tokenCreateFlags are the flags of coffer token create.
type tokenCreateFlags struct {
	expires time.Duration
	scopes  []string
}

// tokenListFlags are the flags of coffer token ls.
type tokenListFlags struct {
	owner string
}

func newTokenCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage personal access tokens",
		Long: `Create, list and revoke personal access tokens. A token acts as the
principal that created it, narrowed by its scopes; send it as the password
of HTTP Basic, or store it with coffer login --username NAME --password-stdin.`,
	}
	cmd.AddCommand(newTokenCreateCommand(a), newTokenListCommand(a), newTokenRevokeCommand(a))
	return cmd
}

func newTokenCreateCommand(a *app) *cobra.Command {
	var f tokenCreateFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a personal access token",
		Long: `Create a personal access token named NAME for the logged-in principal.
The secret is printed once, now; the server does not show it again.

Each --scope limits the token to some actions on some resources, written
ACTION[,ACTION...]=RESOURCE[,RESOURCE...]. Without --scope the token may do
all its owner may do. docs/policies.md lists the actions and resources.`,
		Example: `  coffer token create "nightly backup" --expires 720h \
    --scope 's3:GetObject,s3:ListBucket=arn:aws:s3:::releases,arn:aws:s3:::releases/*'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			scopes, err := parseScopes(f.scopes)
			if err != nil {
				return err
			}
			if f.expires < 0 {
				return usageError{fmt.Errorf("--expires %s: expected a positive duration such as 720h, or 0 for no expiry", f.expires)}
			}
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				t, err := c.CreateToken(ctx, client.CreateTokenOptions{Name: args[0], ExpiresIn: f.expires, Scopes: scopes})
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(t)
				}
				fmt.Fprintf(a.streams.Out, "created token %s (%s), expires %s\nsecret: %s\n", t.ID, t.Name, formatTime(t.Expires), t.Secret)
				return nil
			})
		},
	}
	cmd.Flags().DurationVar(&f.expires, "expires", 0, "lifetime of the token, such as 720h; 0 for a token that does not expire")
	cmd.Flags().StringArrayVar(&f.scopes, "scope", nil, "limit the token to ACTION[,ACTION...]=RESOURCE[,RESOURCE...]; repeat for more (default: all the owner may do)")
	return cmd
}

// parseScopes reads --scope values of the form ACTIONS=RESOURCES.
func parseScopes(values []string) ([]client.Scope, error) {
	var scopes []client.Scope
	for _, v := range values {
		actions, resources, ok := strings.Cut(v, "=")
		if !ok || actions == "" || resources == "" {
			return nil, usageError{fmt.Errorf("--scope %q: expected ACTION[,ACTION...]=RESOURCE[,RESOURCE...], such as s3:GetObject=arn:aws:s3:::releases/*", v)}
		}
		scopes = append(scopes, client.Scope{Actions: strings.Split(actions, ","), Resources: strings.Split(resources, ",")})
	}
	return scopes, nil
}

func newTokenListCommand(a *app) *cobra.Command {
	var f tokenListFlags
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List personal access tokens without their secrets",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				tokens, err := c.Tokens(ctx, client.TokensOptions{Owner: f.owner})
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(tokens)
				}
				for _, t := range tokens {
					fmt.Fprintf(a.streams.Out, "%s  %s  created %s  expires %s  last used %s  %s\n",
						t.ID, tokenState(t), formatTime(t.Created), formatTime(t.Expires), formatTime(t.LastUsed), t.Name)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.owner, "owner", "", "list the tokens of this principal ID (default: the logged-in principal)")
	return cmd
}

// tokenState returns "active", "expired" or "revoked".
func tokenState(t client.Token) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked"
	case !t.Expires.IsZero() && !time.Now().Before(t.Expires):
		return "expired"
	}
	return "active"
}

func newTokenRevokeCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Aliases: []string{"rm"},
		Short:   "Revoke a personal access token",
		Long:    `Revoke a personal access token; the next request that sends it fails with 401.`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if err := c.RevokeToken(ctx, args[0]); err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(map[string]string{"revoked": args[0]})
				}
				fmt.Fprintf(a.streams.Out, "revoked token %s\n", args[0])
				return nil
			})
		},
	}
}
