package client_test

import (
	"errors"
	"testing"

	"github.com/cofferhq/coffer/pkg/client"
)

func TestWebhookLifecycle(t *testing.T) {
	c := newClient(t, nil, client.Options{})
	ctx := t.Context()
	created, err := c.CreateWebhook(ctx, client.CreateWebhookOptions{
		Name: "ci-hook", URL: "http://127.0.0.1:1/hook", Types: []string{"io.coffer.tag.*"},
	})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.ID != "ci-hook" || created.Secret == "" || created.Origin != "api" {
		t.Errorf("created %+v, want id ci-hook, a generated secret and origin api", created)
	}
	if _, err := c.CreateWebhook(ctx, client.CreateWebhookOptions{Name: "ci-hook", URL: "http://127.0.0.1:1/hook"}); !errors.Is(err, client.ErrConflict) {
		t.Errorf("create twice: %v, want ErrConflict", err)
	}

	got, err := c.Webhook(ctx, "ci-hook")
	if err != nil || got.URL != created.URL || got.Secret != "" {
		t.Errorf("get: %+v, %v; want the URL and no secret", got, err)
	}
	page, err := c.Webhooks(ctx, client.PageOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("list: %+v, %v; want one subscription", page, err)
	}
	deliveries, err := c.Deliveries(ctx, "ci-hook", client.PageOptions{})
	if err != nil || len(deliveries.Items) != 0 {
		t.Errorf("deliveries: %+v, %v; want none", deliveries, err)
	}
	if err := c.DeleteWebhook(ctx, "ci-hook"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, err := c.Webhook(ctx, "ci-hook"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
}
