package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/events"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// WebhookStore is the part of the metadata store that the webhook endpoints use.
type WebhookStore interface {
	CreateSubscription(ctx context.Context, s metadata.Subscription) error
	GetSubscription(ctx context.Context, id string) (metadata.Subscription, error)
	ListSubscriptions(ctx context.Context, after string, limit int) ([]metadata.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
	ListDeliveries(ctx context.Context, subscriptionID string, beforeID int64, limit int) ([]metadata.Delivery, error)
	Redeliver(ctx context.Context, subscriptionID string, id int64, now time.Time) (metadata.Delivery, error)
}

// EnableWebhooks serves /api/v1/webhooks over store. wake requests a
// dispatcher pass after a redelivery request.
func (h *Handler) EnableWebhooks(store WebhookStore, wake func()) {
	h.webhooks, h.wakeDispatcher = store, wake
	h.handle("POST /api/v1/webhooks", fixed(authz.ActionWebhooksWrite, authz.ManagementResource("webhooks", "*")), h.createWebhook)
	h.handle("GET /api/v1/webhooks", fixed(authz.ActionWebhooksRead, authz.ManagementResource("webhooks", "*")), h.listWebhooks)
	h.handle("GET /api/v1/webhooks/{id}", onPath(authz.ActionWebhooksRead, "id", webhookResource), h.getWebhook)
	h.handle("DELETE /api/v1/webhooks/{id}", onPath(authz.ActionWebhooksWrite, "id", webhookResource), h.deleteWebhook)
	h.handle("GET /api/v1/webhooks/{id}/deliveries", onPath(authz.ActionWebhooksRead, "id", webhookResource), h.listDeliveries)
	h.handle("POST /api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", onPath(authz.ActionWebhooksWrite, "id", webhookResource), h.redeliver)
}

// webhookJSON is a subscription as the API shows it. Secret is set only
// in the response that creates the subscription.
type webhookJSON struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	URL          string    `json:"url"`
	Types        []string  `json:"types"`
	Repositories []string  `json:"repositories"`
	Buckets      []string  `json:"buckets"`
	Origin       string    `json:"origin"`
	Created      time.Time `json:"created"`
	Secret       string    `json:"secret,omitempty"`
}

func webhookInfo(s metadata.Subscription) webhookJSON {
	nonNil := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return webhookJSON{
		ID: s.ID, Name: s.Name, URL: s.URL, Types: nonNil(s.Types), Repositories: nonNil(s.Repositories),
		Buckets: nonNil(s.Buckets), Origin: s.Origin, Created: s.Created,
	}
}

// deliveryJSON is one entry of the delivery log.
type deliveryJSON struct {
	ID           int64     `json:"id"`
	EventID      string    `json:"event_id"`
	EventType    string    `json:"event_type"`
	Subject      string    `json:"subject"`
	Status       string    `json:"status"`
	Attempts     int       `json:"attempts"`
	NextAttempt  time.Time `json:"next_attempt"`
	LastError    string    `json:"last_error"`
	ResponseCode int       `json:"response_code"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

func deliveryInfo(d metadata.Delivery) deliveryJSON {
	return deliveryJSON{
		ID: d.ID, EventID: d.Event.ID, EventType: d.Event.Type, Subject: d.Event.Subject, Status: d.Status,
		Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastError: d.LastError, ResponseCode: d.ResponseCode,
		Created: d.Created, Updated: d.Updated,
	}
}

// writeWebhookError maps a store error to problem details.
func writeWebhookError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, metadata.ErrNotFound):
		WriteProblem(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, metadata.ErrAlreadyExists):
		WriteProblem(w, r, http.StatusConflict, err.Error()+"; choose another name")
	default:
		telemetry.Logger(r.Context()).Error("webhook request failed", "error", err)
		WriteProblem(w, r, http.StatusInternalServerError, "internal error; the server log has the details under this request ID")
	}
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name         string   `json:"name"`
		URL          string   `json:"url"`
		Secret       string   `json:"secret"`
		Types        []string `json:"types"`
		Repositories []string `json:"repositories"`
		Buckets      []string `json:"buckets"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error()+`; expected {"name", "url", and optional "secret", "types", "repositories", "buckets"}`)
		return
	}

	if err := validateWebhook(body.Name, body.URL, body.Secret, body.Types); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if body.Secret == "" {
		body.Secret = newSecret()
	}
	sub := metadata.Subscription{
		ID: body.Name, Name: body.Name, URL: body.URL, Secret: body.Secret, Types: body.Types,
		Repositories: body.Repositories, Buckets: body.Buckets, Origin: "api", Created: time.Now().UTC(),
	}
	if err := h.webhooks.CreateSubscription(r.Context(), sub); err != nil {
		writeWebhookError(w, r, err)
		return
	}

	out := webhookInfo(sub)
	out.Secret = sub.Secret
	w.Header().Set("Location", "/api/v1/webhooks/"+sub.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out) //nolint:gosec // the secret is shown once, in the response that creates the subscription
}

// validateWebhook checks a new subscription. Each type must be a known
// event type or a glob with '*' or '?'.
func validateWebhook(name, url, secret string, types []string) error {
	errs := []error{config.ValidateSubscription(name, url, secret)}
	if strings.HasPrefix(name, "config-") {
		errs = append(errs, fmt.Errorf("invalid name %q: the prefix config- is reserved for subscriptions from the configuration file", name))
	}
	for _, t := range types {
		if !slices.Contains(events.Types, t) && !strings.ContainsAny(t, "*?") {
			errs = append(errs, fmt.Errorf("unknown event type %q: use one of %s, or a glob such as io.coffer.tag.*", t, strings.Join(events.Types, ", ")))
		}
	}
	return errors.Join(errs...)
}

// newSecret returns 32 random bytes in hex.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // since Go 1.24 crypto/rand.Read crashes instead of returning an error
	return hex.EncodeToString(b[:])
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	limit, after, err := pageRequest(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	subs, err := h.webhooks.ListSubscriptions(r.Context(), after, limit+1)
	if err != nil {
		writeWebhookError(w, r, err)
		return
	}
	page := Page[webhookJSON]{Items: []webhookJSON{}}
	if len(subs) > limit {
		subs = subs[:limit]
		page.NextCursor = encodeCursor(subs[limit-1].ID)
	}
	for _, s := range subs {
		page.Items = append(page.Items, webhookInfo(s))
	}
	writeJSON(w, page)
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) {
	sub, err := h.webhooks.GetSubscription(r.Context(), r.PathValue("id"))
	if err != nil {
		writeWebhookError(w, r, err)
		return
	}
	writeJSON(w, webhookInfo(sub))
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sub, err := h.webhooks.GetSubscription(r.Context(), id)
	if err != nil {
		writeWebhookError(w, r, err)
		return
	}
	if sub.Origin == "config" {
		WriteProblem(w, r, http.StatusConflict, "subscription "+id+" comes from the configuration file; remove it there and restart")
		return
	}
	if err := h.webhooks.DeleteSubscription(r.Context(), id); err != nil {
		writeWebhookError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) listDeliveries(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	limit, after, err := pageRequest(r)
	var before int64
	if err == nil && after != "" {
		before, err = strconv.ParseInt(after, 10, 64)
		if err != nil || before <= 0 {
			err = errInvalidCursor
		}
	}
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}

	if _, err := h.webhooks.GetSubscription(r.Context(), id); err != nil {
		writeWebhookError(w, r, err)
		return
	}
	deliveries, err := h.webhooks.ListDeliveries(r.Context(), id, before, limit+1)
	if err != nil {
		writeWebhookError(w, r, err)
		return
	}

	page := Page[deliveryJSON]{Items: []deliveryJSON{}}
	if len(deliveries) > limit {
		deliveries = deliveries[:limit]
		page.NextCursor = encodeCursor(strconv.FormatInt(deliveries[limit-1].ID, 10))
	}
	for _, d := range deliveries {
		page.Items = append(page.Items, deliveryInfo(d))
	}
	writeJSON(w, page)
}

func (h *Handler) redeliver(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil || id <= 0 {
		WriteProblem(w, r, http.StatusBadRequest, "invalid delivery id "+strconv.Quote(r.PathValue("delivery"))+": expected a positive integer from the delivery log")
		return
	}
	d, err := h.webhooks.Redeliver(r.Context(), r.PathValue("id"), id, time.Now())
	if err != nil {
		writeWebhookError(w, r, err)
		return
	}
	if h.wakeDispatcher != nil {
		h.wakeDispatcher()
	}
	body, _ := json.Marshal(deliveryInfo(d))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(body)
}
