package admin

import (
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
)

// tokensResource returns the resource of the tokens of a principal.
func tokensResource(owner string) string {
	return authz.ManagementResource("tokens", owner)
}

// onCaller is the rule of a route on the caller's own tokens.
func onCaller(action string) access {
	return func(_ http.ResponseWriter, r *http.Request) (string, string, bool) {
		return action, tokensResource(caller(r).Principal.ID), true
	}
}

// onOwnerQuery is the rule of GET /api/v1/tokens: the tokens of the owner
// in ?owner=, by default the caller's.
func onOwnerQuery(action string) access {
	return func(_ http.ResponseWriter, r *http.Request) (string, string, bool) {
		return action, tokensResource(tokenOwner(r)), true
	}
}

// tokenOwner returns ?owner= or, without it, the caller's principal ID.
func tokenOwner(r *http.Request) string {
	if owner := r.URL.Query().Get("owner"); owner != "" {
		return owner
	}
	return caller(r).Principal.ID
}

// onToken is the rule of a route on one token: action on the tokens of
// the token's owner. An unknown token is 404.
func (h *Handler) onToken(action string) access {
	return func(w http.ResponseWriter, r *http.Request) (string, string, bool) {
		c, err := h.identities.GetCredential(r.Context(), r.PathValue("id"))
		if err == nil && c.Kind != metadata.CredentialToken {
			err = metadata.ErrNotFound
		}
		if err != nil {
			writeIdentityError(w, r, err)
			return "", "", false
		}
		return action, tokensResource(c.Owner), true
	}
}

// createToken issues a personal access token that acts as the caller,
// with a snapshot of the caller's roles and groups, narrowed by the
// requested scopes. The secret is in this response only.
func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	body, expires, restriction, err := decodeCredentialRequest(r, now)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if body.Name == "" || len(body.Name) > maxNameLength {
		WriteProblem(w, r, http.StatusBadRequest, "invalid name: expected 1 to 200 characters that describe the token's use")
		return
	}
	p := caller(r).Principal
	h.issue(w, r, metadata.Credential{
		Kind:        metadata.CredentialToken,
		Name:        body.Name,
		Owner:       p.ID,
		OwnerRoles:  p.Roles,
		OwnerGroups: p.Groups,
		CreatedBy:   p.ID,
		Restriction: restriction,
		Created:     now,
		Expires:     expires,
	})
}

func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := h.identities.ListCredentials(r.Context(), metadata.CredentialToken, tokenOwner(r))
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	writeCredentials(w, list)
}

func (h *Handler) getToken(w http.ResponseWriter, r *http.Request) {
	c, err := h.identities.GetCredential(r.Context(), r.PathValue("id"))
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	writeJSON(w, toCredentialJSON(c))
}

// revokeToken revokes a token; the next request with it fails.
func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) {
	if err := h.identities.RevokeCredential(r.Context(), r.PathValue("id"), time.Now().UTC()); err != nil {
		writeIdentityError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
