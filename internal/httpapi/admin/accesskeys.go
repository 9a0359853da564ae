package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// AccessKeys manages S3 access keys; *identity.AccessKeys implements it.
type AccessKeys interface {
	Create(ctx context.Context, owner identity.Identity, req identity.NewAccessKey) (identity.AccessKey, string, error)
	Get(ctx context.Context, id string) (identity.AccessKey, error)
	List(ctx context.Context, ownerID string) ([]identity.AccessKey, error)
	Revoke(ctx context.Context, id string) error
}

// Caller returns the identity of an authenticated management request.
type Caller func(r *http.Request) (identity.Identity, error)

// EnableAccessKeys serves /api/v1/access-keys. A caller sees and revokes
// its own keys; the root user sees and revokes every key.
func (h *Handler) EnableAccessKeys(keys AccessKeys, caller Caller) {
	h.accessKeys, h.caller = keys, caller
	h.mux.HandleFunc("POST /api/v1/access-keys", h.createAccessKey)
	h.mux.HandleFunc("GET /api/v1/access-keys", h.listAccessKeys)
	h.mux.HandleFunc("GET /api/v1/access-keys/{id}", h.getAccessKey)
	h.mux.HandleFunc("DELETE /api/v1/access-keys/{id}", h.revokeAccessKey)
}

// accessKeyJSON is an access key as the API shows it. SecretAccessKey is
// set only in the response that creates the key.
type accessKeyJSON struct {
	AccessKeyID     string        `json:"access_key_id"`
	SecretAccessKey string        `json:"secret_access_key,omitempty"`
	Owner           string        `json:"owner"`
	Description     string        `json:"description"`
	Status          string        `json:"status"`
	Created         time.Time     `json:"created"`
	ExpiresAt       *time.Time    `json:"expires_at,omitempty"`
	RevokedAt       *time.Time    `json:"revoked_at,omitempty"`
	Restriction     *authz.Policy `json:"restriction,omitempty"`
}

func accessKeyInfo(k identity.AccessKey, now time.Time) accessKeyJSON {
	out := accessKeyJSON{AccessKeyID: k.ID, Owner: k.OwnerID, Description: k.Description, Status: "active", Created: k.Created, Restriction: k.Restriction}
	if !k.Expires.IsZero() {
		out.ExpiresAt = &k.Expires
		if !now.Before(k.Expires) {
			out.Status = "expired"
		}
	}
	if !k.Revoked.IsZero() {
		out.RevokedAt, out.Status = &k.Revoked, "revoked"
	}
	return out
}

func (h *Handler) createAccessKey(w http.ResponseWriter, r *http.Request) {
	owner, ok := h.accessKeyCaller(w, r)
	if !ok {
		return
	}

	var body struct {
		Description string          `json:"description"`
		ExpiresAt   *time.Time      `json:"expires_at"`
		Policy      json.RawMessage `json:"policy"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error()+`; expected optional "description", "expires_at" (RFC 3339) and "policy" (an AWS IAM policy document)`)
		return
	}
	req := identity.NewAccessKey{Description: body.Description}
	if body.ExpiresAt != nil {
		req.Expires = *body.ExpiresAt
	}
	if len(body.Policy) > 0 && string(body.Policy) != "null" {
		statements, err := authz.ParseSessionPolicy(body.Policy)
		if err != nil {
			WriteProblem(w, r, http.StatusBadRequest, "invalid policy: "+err.Error())
			return
		}
		req.Restriction = statements
	}

	key, secret, err := h.accessKeys.Create(r.Context(), owner, req)
	if err != nil {
		writeAccessKeyError(w, r, err)
		return
	}
	out := accessKeyInfo(key, time.Now())
	out.SecretAccessKey = secret
	w.Header().Set("Location", "/api/v1/access-keys/"+key.ID)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(out) //nolint:gosec // the secret is shown once, in the response that creates the key
}

func (h *Handler) listAccessKeys(w http.ResponseWriter, r *http.Request) {
	caller, ok := h.accessKeyCaller(w, r)
	if !ok {
		return
	}
	owner := caller.Principal.ID
	if owner == identity.RootPrincipalID {
		owner = ""
	}
	keys, err := h.accessKeys.List(r.Context(), owner)
	if err != nil {
		writeAccessKeyError(w, r, err)
		return
	}
	now := time.Now()
	page := Page[accessKeyJSON]{Items: make([]accessKeyJSON, 0, len(keys))}
	for _, k := range keys {
		page.Items = append(page.Items, accessKeyInfo(k, now))
	}
	writeJSON(w, page)
}

func (h *Handler) getAccessKey(w http.ResponseWriter, r *http.Request) {
	if key, ok := h.visibleAccessKey(w, r); ok {
		writeJSON(w, accessKeyInfo(key, time.Now()))
	}
}

func (h *Handler) revokeAccessKey(w http.ResponseWriter, r *http.Request) {
	key, ok := h.visibleAccessKey(w, r)
	if !ok {
		return
	}
	if err := h.accessKeys.Revoke(r.Context(), key.ID); err != nil {
		writeAccessKeyError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// visibleAccessKey returns the key of the path if the caller may see it:
// its owner or root. Another owner's key is reported as not found.
func (h *Handler) visibleAccessKey(w http.ResponseWriter, r *http.Request) (identity.AccessKey, bool) {
	caller, ok := h.accessKeyCaller(w, r)
	if !ok {
		return identity.AccessKey{}, false
	}
	key, err := h.accessKeys.Get(r.Context(), r.PathValue("id"))
	if err == nil && caller.Principal.ID != identity.RootPrincipalID && caller.Principal.ID != key.OwnerID {
		err = identity.ErrAccessKeyNotFound
	}
	if err != nil {
		writeAccessKeyError(w, r, err)
		return identity.AccessKey{}, false
	}
	return key, true
}

// accessKeyCaller returns the identity of the request, or writes the
// error response and returns false.
func (h *Handler) accessKeyCaller(w http.ResponseWriter, r *http.Request) (identity.Identity, bool) {
	caller, err := h.caller(r)
	if err != nil {
		if errors.Is(err, authn.ErrUnavailable) {
			writeAccessKeyError(w, r, err)
		} else {
			Challenge(w, r)
		}
		return identity.Identity{}, false
	}
	return caller, true
}

func writeAccessKeyError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, identity.ErrAccessKeyNotFound):
		WriteProblem(w, r, http.StatusNotFound, "no access key "+r.PathValue("id"))
	case errors.Is(err, identity.ErrInvalidRequest):
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, authn.ErrUnavailable):
		WriteProblem(w, r, http.StatusServiceUnavailable, "the credentials could not be checked because the identity provider is unavailable; retry later")
	default:
		telemetry.Logger(r.Context()).Error("access key request failed", "error", err)
		WriteProblem(w, r, http.StatusInternalServerError, "internal error; the server log has the details under this request ID")
	}
}
