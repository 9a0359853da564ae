package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferhq/coffer/pkg/client"
)

// webhookCreateFlags are the flags of coffer webhook create.
type webhookCreateFlags struct {
	types        []string
	repositories []string
	buckets      []string
	secretStdin  bool
}

func newWebhookCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Manage webhook subscriptions",
		Long:  `Create, list, show and delete webhook subscriptions, and inspect and repeat their deliveries.`,
	}
	cmd.AddCommand(newWebhookCreateCommand(a), newWebhookListCommand(a), newWebhookGetCommand(a),
		newWebhookDeleteCommand(a), newWebhookDeliveriesCommand(a), newWebhookRedeliverCommand(a))
	return cmd
}

func newWebhookCreateCommand(a *app) *cobra.Command {
	var f webhookCreateFlags
	cmd := &cobra.Command{
		Use:   "create NAME URL",
		Short: "Create a subscription",
		Long: `Create a subscription that POSTs CloudEvents to URL. Without
--secret-stdin the server generates the signing secret, which is printed
once, now.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := client.CreateWebhookOptions{Name: args[0], URL: args[1], Types: f.types, Repositories: f.repositories, Buckets: f.buckets}
			if f.secretStdin {
				var secret string
				if _, err := fmt.Fscanln(a.streams.In, &secret); err != nil || secret == "" {
					return usageError{fmt.Errorf("no secret on standard input: %w", err)}
				}
				opts.Secret = secret
			}
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				w, err := c.CreateWebhook(ctx, opts)
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(w)
				}
				fmt.Fprintf(a.streams.Out, "created webhook %s for %s\nsecret: %s\n", w.ID, w.URL, w.Secret)
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&f.types, "type", nil, "event type or glob to deliver, such as io.coffer.tag.*; repeat for more (default all)")
	cmd.Flags().StringSliceVar(&f.repositories, "repository", nil, "deliver only events of this repository; repeat for more (default all)")
	cmd.Flags().StringSliceVar(&f.buckets, "bucket", nil, "deliver only events of this bucket; repeat for more (default all)")
	cmd.Flags().BoolVar(&f.secretStdin, "secret-stdin", false, "read the signing secret from standard input")
	return cmd
}

func newWebhookListCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List subscriptions",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				all := []client.Webhook{}
				opts := client.PageOptions{Limit: 1000}
				for {
					page, err := c.Webhooks(ctx, opts)
					if err != nil {
						return err
					}
					all = append(all, page.Items...)
					if page.NextCursor == "" {
						break
					}
					opts.Cursor = page.NextCursor
				}
				if a.jsonOutput() {
					return a.printJSON(all)
				}
				for _, w := range all {
					fmt.Fprintf(a.streams.Out, "%s  %s  %s  types=%s\n", w.ID, w.Origin, w.URL, strings.Join(w.Types, ","))
				}
				return nil
			})
		},
	}
}

func newWebhookGetCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a subscription",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				w, err := c.Webhook(ctx, args[0])
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(w)
				}
				fmt.Fprintf(a.streams.Out, "ID:           %s\nURL:          %s\nTypes:        %s\nRepositories: %s\nBuckets:      %s\nOrigin:       %s\nCreated:      %s\n",
					w.ID, w.URL, strings.Join(w.Types, ","), strings.Join(w.Repositories, ","), strings.Join(w.Buckets, ","), w.Origin, formatTime(w.Created))
				return nil
			})
		},
	}
}

func newWebhookDeleteCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"delete"},
		Short:   "Delete a subscription",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if err := c.DeleteWebhook(ctx, args[0]); err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(map[string]string{"deleted": args[0]})
				}
				fmt.Fprintf(a.streams.Out, "deleted webhook %s\n", args[0])
				return nil
			})
		},
	}
}

func newWebhookDeliveriesCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "deliveries ID",
		Short: "List a subscription's deliveries, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				page, err := c.Deliveries(ctx, args[0], client.PageOptions{Limit: 100})
				if err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(page.Items)
				}
				for _, d := range page.Items {
					fmt.Fprintf(a.streams.Out, "%d  %s  %s  %s  attempts=%d  %s\n", d.ID, formatTime(d.Created), d.EventType, d.Status, d.Attempts, d.LastError)
				}
				return nil
			})
		},
	}
}

func newWebhookRedeliverCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "redeliver ID DELIVERY",
		Short: "Send a delivery again with the same event ID",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			delivery, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || delivery <= 0 {
				return usageError{fmt.Errorf("delivery %q: expected a positive number from coffer webhook deliveries", args[1])}
			}
			return a.withClient(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if err := c.Redeliver(ctx, args[0], delivery); err != nil {
					return err
				}
				if a.jsonOutput() {
					return a.printJSON(map[string]any{"webhook": args[0], "delivery": delivery, "queued": true})
				}
				fmt.Fprintf(a.streams.Out, "queued delivery %d of webhook %s again\n", delivery, args[0])
				return nil
			})
		},
	}
}

// withClient runs fn with the configured client.
func (a *app) withClient(ctx context.Context, fn func(context.Context, *client.Client) error) error {
	c, err := a.newClient(ctx)
	if err != nil {
		return err
	}
	return fn(ctx, c)
}
