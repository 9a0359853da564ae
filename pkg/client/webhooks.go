package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Webhook is a webhook subscription.
type Webhook struct {
	// ID identifies the subscription in get, delete and delivery calls.
	ID string `json:"id"`
	// Name is the subscription's unique name.
	Name string `json:"name"`
	// URL receives the deliveries as HTTP POST requests.
	URL string `json:"url"`
	// Types are the CloudEvents types delivered; empty means all.
	Types []string `json:"types"`
	// Repositories and Buckets limit the events to these names; empty
	// means all.
	Repositories []string `json:"repositories"`
	Buckets      []string `json:"buckets"`
	// Origin is "api" for subscriptions created through the API and
	// "config" for those from the server's configuration file.
	Origin  string    `json:"origin"`
	Created time.Time `json:"created"`
	// Secret signs the deliveries. The server returns it only when the
	// subscription is created.
	Secret string `json:"secret,omitempty"`
}

// CreateWebhookOptions describes a new subscription.
type CreateWebhookOptions struct {
	// Name identifies the subscription; it is also its ID. Required.
	Name string `json:"name"`
	// URL receives the deliveries. Required.
	URL string `json:"url"`
	// Secret signs the deliveries. Empty lets the server generate one,
	// which the returned Webhook carries.
	Secret string `json:"secret,omitempty"`
	// Types, Repositories and Buckets filter the events; empty means all.
	Types        []string `json:"types,omitempty"`
	Repositories []string `json:"repositories,omitempty"`
	Buckets      []string `json:"buckets,omitempty"`
}

// CreateWebhook creates a subscription. A name in use gives [ErrConflict].
func (c *Client) CreateWebhook(ctx context.Context, opts CreateWebhookOptions) (Webhook, error) {
	var w Webhook
	err := c.callJSON(ctx, http.MethodPost, "/api/v1/webhooks", nil, opts, &w)
	return w, err
}

// WebhookPage is one page of [Client.Webhooks].
type WebhookPage struct {
	// Items are the subscriptions of this page.
	Items []Webhook
	// NextCursor is set when more subscriptions follow.
	NextCursor string
}

// Webhooks lists subscriptions, one page at a time.
func (c *Client) Webhooks(ctx context.Context, opts PageOptions) (WebhookPage, error) {
	var p page[Webhook]
	if err := c.callJSON(ctx, http.MethodGet, "/api/v1/webhooks", opts.query(), nil, &p); err != nil {
		return WebhookPage{}, err
	}
	return WebhookPage{Items: p.Items, NextCursor: p.NextCursor}, nil
}

// Webhook reads one subscription.
func (c *Client) Webhook(ctx context.Context, id string) (Webhook, error) {
	var w Webhook
	err := c.callJSON(ctx, http.MethodGet, "/api/v1/webhooks/"+url.PathEscape(id), nil, nil, &w)
	return w, err
}

// DeleteWebhook deletes a subscription. One from the server's
// configuration file gives [ErrConflict].
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.callJSON(ctx, http.MethodDelete, "/api/v1/webhooks/"+url.PathEscape(id), nil, nil, nil)
}

// Delivery is one entry of a subscription's delivery log.
type Delivery struct {
	// ID identifies the delivery for redelivery.
	ID int64 `json:"id"`
	// EventID, EventType and Subject are the CloudEvents id, type and
	// subject of the event delivered.
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	Subject   string `json:"subject"`
	// Status is "pending", "delivered" or "dead" (retries exhausted).
	Status       string    `json:"status"`
	Attempts     int       `json:"attempts"`
	NextAttempt  time.Time `json:"next_attempt"`
	LastError    string    `json:"last_error"`
	ResponseCode int       `json:"response_code"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// DeliveryPage is one page of [Client.Deliveries].
type DeliveryPage struct {
	// Items are the deliveries of this page, newest first.
	Items []Delivery
	// NextCursor is set when older deliveries follow.
	NextCursor string
}

// Deliveries lists a subscription's deliveries, newest first.
func (c *Client) Deliveries(ctx context.Context, webhookID string, opts PageOptions) (DeliveryPage, error) {
	var p page[Delivery]
	path := "/api/v1/webhooks/" + url.PathEscape(webhookID) + "/deliveries"
	if err := c.callJSON(ctx, http.MethodGet, path, opts.query(), nil, &p); err != nil {
		return DeliveryPage{}, err
	}
	return DeliveryPage{Items: p.Items, NextCursor: p.NextCursor}, nil
}

// Redeliver queues a delivery again with the same event ID.
func (c *Client) Redeliver(ctx context.Context, webhookID string, deliveryID int64) error {
	path := "/api/v1/webhooks/" + url.PathEscape(webhookID) + "/deliveries/" + strconv.FormatInt(deliveryID, 10) + "/redeliver"
	return c.callJSON(ctx, http.MethodPost, path, nil, nil, nil)
}
