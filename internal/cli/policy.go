package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// policyExplainFlags are the flags of coffer policy explain.
type policyExplainFlags struct {
	principal       string
	roles           []string
	groups          []string
	sourceIP        string
	secureTransport bool
	at              string
}

func newPolicyCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Inspect access policies",
	}
	cmd.AddCommand(newPolicyExplainCommand(a))
	return cmd
}

func newPolicyExplainCommand(a *app) *cobra.Command {
	var f policyExplainFlags
	cmd := &cobra.Command{
		Use:   "explain ACTION RESOURCE",
		Short: "Show whether a request would be allowed, and which statements decide",
		Long: `Decide a described request against the server's access policies without
doing it, and print the decision with the statements that produced it. The
caller needs the coffer:policies.explain permission.

Without --principal the logged-in principal is explained, with the
restriction of its token. The exit code is 0 for both decisions; read
"effect" from -o json in scripts.`,
		Example: `  coffer policy explain s3:GetObject arn:aws:s3:::releases/app.tar
  coffer policy explain oci:push repo:team-a/app --principal 'https://sso.example.com/realms/coffer#5f0c2a' --role team-a`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := client.ExplainRequest{Action: args[0], Resource: args[1], SourceIP: f.sourceIP, SecureTransport: f.secureTransport}
			if f.principal != "" {
				req.Principal = &client.Principal{ID: f.principal, Roles: f.roles, Groups: f.groups}
			} else if len(f.roles) > 0 || len(f.groups) > 0 {
				return usageError{fmt.Errorf("--role and --group describe a --principal; set --principal too")}
			}
			if f.at != "" {
				at, err := time.Parse(time.RFC3339, f.at)
				if err != nil {
					return usageError{fmt.Errorf("--time %q: expected an RFC 3339 time such as 2026-12-05T12:00:00Z", f.at)}
				}
				req.Time = at
			}
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				e, err := c.Explain(ctx, req)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(e)
				}
				printExplanation(a.streams.Out, e)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.principal, "principal", "", "principal ID to decide for (default: the logged-in principal)")
	cmd.Flags().StringSliceVar(&f.roles, "role", nil, "role of --principal; repeat for more")
	cmd.Flags().StringSliceVar(&f.groups, "group", nil, "group of --principal, such as /eng/web; repeat for more")
	cmd.Flags().StringVar(&f.sourceIP, "source-ip", "", "client address for aws:SourceIp conditions")
	cmd.Flags().BoolVar(&f.secureTransport, "secure-transport", false, "decide as for a request over TLS (aws:SecureTransport)")
	cmd.Flags().StringVar(&f.at, "time", "", "request time for date conditions, RFC 3339 (default: the server's clock)")
	return cmd
}

// printExplanation writes the decision and one block per statement.
func printExplanation(w io.Writer, e client.Explanation) {
	fmt.Fprintf(w, "Decision: %s (%s)\n", e.Effect, e.Reason)
	if len(e.Statements) == 0 {
		fmt.Fprintln(w, "Statements: none matched")
		return
	}
	for _, s := range e.Statements {
		fmt.Fprintf(w, "Statement %s: %s\n  principals: %s\n  actions:    %s\n  resources:  %s\n",
			s.ID, s.Effect, strings.Join(s.Principals, ", "), strings.Join(s.Actions, ", "), strings.Join(s.Resources, ", "))
		for _, c := range s.Conditions {
			fmt.Fprintf(w, "  condition:  %s %s %s\n", c.Operator, c.Key, strings.Join(c.Values, ", "))
		}
	}
}
