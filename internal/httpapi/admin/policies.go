package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// policyIDPattern is the syntax of stored policy IDs, which prefix the IDs
// of their statements in decisions.
var policyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// maxPolicyBytes bounds the body of a policy or explain request.
const maxPolicyBytes = 1 << 20

// policyResource returns the resource of a stored policy.
func policyResource(id string) string {
	return authz.ManagementResource("policies", id)
}

func (h *Handler) registerPolicies() {
	all := policyResource("*")
	h.handle("GET /api/v1/policies", fixed(authz.ActionPoliciesRead, all), h.listPolicies)
	h.handle("POST /api/v1/policies/explain", fixed(authz.ActionPoliciesExplain, all), h.explain)
	h.handle("GET /api/v1/policies/{id}", onPath(authz.ActionPoliciesRead, "id", policyResource), h.getPolicy)
	h.handle("PUT /api/v1/policies/{id}", onPath(authz.ActionPoliciesWrite, "id", policyResource), h.putPolicy)
	h.handle("DELETE /api/v1/policies/{id}", onPath(authz.ActionPoliciesWrite, "id", policyResource), h.deletePolicy)
}

// policyJSON is a stored policy as the API shows it.
type policyJSON struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	Statements  []authz.Statement `json:"statements"`
	Created     time.Time         `json:"created"`
	Updated     time.Time         `json:"updated"`
	UpdatedBy   string            `json:"updated_by"`
}

// toPolicyJSON converts a stored policy; its statements were validated
// when it was stored.
func toPolicyJSON(p metadata.StoredPolicy) (policyJSON, error) {
	out := policyJSON{ID: p.ID, Description: p.Description, Created: p.Created, Updated: p.Updated, UpdatedBy: p.UpdatedBy}
	if err := json.Unmarshal(p.Statements, &out.Statements); err != nil {
		return policyJSON{}, fmt.Errorf("decode statements of policy %s: %w", p.ID, err)
	}
	return out, nil
}

func (h *Handler) listPolicies(w http.ResponseWriter, r *http.Request) {
	list, err := h.identities.ListPolicies(r.Context())
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	items := make([]policyJSON, 0, len(list))
	for _, p := range list {
		out, err := toPolicyJSON(p)
		if err != nil {
			writeIdentityError(w, r, err)
			return
		}
		items = append(items, out)
	}
	writeJSON(w, Page[policyJSON]{Items: items})
}

func (h *Handler) getPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := h.identities.GetPolicy(r.Context(), r.PathValue("id"))
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	out, err := toPolicyJSON(p)
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	writeJSON(w, out)
}

// putPolicy creates or replaces a policy after validating its statements,
// so that a stored policy never fails to parse at decision time.
func (h *Handler) putPolicy(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !policyIDPattern.MatchString(id) || id == "explain" {
		WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("invalid policy id %q: expected 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit, and not \"explain\"", id))
		return
	}
	var body struct {
		Description string            `json:"description"`
		Statements  []authz.Statement `json:"statements"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxPolicyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error()+`; expected {"description": "...", "statements": [...]}`)
		return
	}
	if len(body.Description) > maxNameLength {
		WriteProblem(w, r, http.StatusBadRequest, "invalid description: expected at most 200 characters")
		return
	}
	if body.Statements == nil {
		body.Statements = []authz.Statement{}
	}
	if err := authz.Validate(body.Statements); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid policy: "+err.Error())
		return
	}

	statements, _ := json.Marshal(body.Statements) // validated statements always encode
	p := metadata.StoredPolicy{ID: id, Description: body.Description, Statements: statements, Updated: time.Now().UTC(), UpdatedBy: caller(r).Principal.ID}
	created, err := h.identities.PutPolicy(r.Context(), p)
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	stored, err := h.identities.GetPolicy(r.Context(), id)
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	out, err := toPolicyJSON(stored)
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSONStatus(w, status, out)
}

func (h *Handler) deletePolicy(w http.ResponseWriter, r *http.Request) {
	if err := h.identities.DeletePolicy(r.Context(), r.PathValue("id")); err != nil {
		writeIdentityError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// explainRequest is the body of POST /api/v1/policies/explain. Without
// Principal the caller's own identity, with its restriction, is explained.
type explainRequest struct {
	Principal *struct {
		ID     string         `json:"id"`
		Roles  []string       `json:"roles"`
		Groups []string       `json:"groups"`
		Claims map[string]any `json:"claims"`
	} `json:"principal"`
	Action          string    `json:"action"`
	Resource        string    `json:"resource"`
	SourceIP        string    `json:"source_ip"`
	SecureTransport bool      `json:"secure_transport"`
	Time            time.Time `json:"time,omitzero"`
}

// explainJSON is the response body of the explain endpoint.
type explainJSON struct {
	Effect       authz.Effect      `json:"effect"`
	Reason       authz.Reason      `json:"reason"`
	StatementIDs []string          `json:"statement_ids"`
	Statements   []authz.Statement `json:"statements"`
}

// explain decides a described request and returns the decision with the
// statements that produced it.
func (h *Handler) explain(w http.ResponseWriter, r *http.Request) {
	var body explainRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxPolicyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error()+`; expected {"action": "...", "resource": "...", "principal": {...}}`)
		return
	}

	if body.Action == "" || body.Resource == "" {
		WriteProblem(w, r, http.StatusBadRequest, "action and resource are required, such as oci:pull and repo:team-a/app")
		return
	}
	req := authz.Request{Action: body.Action, Resource: body.Resource, SecureTransport: body.SecureTransport, Time: body.Time}
	if req.Time.IsZero() {
		req.Time = time.Now().UTC()
	}
	if body.SourceIP != "" {
		addr, err := netip.ParseAddr(body.SourceIP)
		if err != nil {
			WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("invalid source_ip %q: expected an IPv4 or IPv6 address", body.SourceIP))
			return
		}
		req.SourceIP = addr
	}

	id := caller(r)
	if body.Principal != nil {
		id = identity.Identity{Principal: authz.Principal{ID: body.Principal.ID, Roles: body.Principal.Roles, Groups: body.Principal.Groups, Claims: body.Principal.Claims}}
	}
	d, statements, err := h.explainer.Explain(r.Context(), id, req)
	if err != nil {
		telemetry.Logger(r.Context()).Error("explaining a decision failed", "action", body.Action, "resource", body.Resource, "error", err)
		WriteProblem(w, r, http.StatusServiceUnavailable, "the access policies could not be read; retry later")
		return
	}
	out := explainJSON{Effect: d.Effect, Reason: d.Reason, StatementIDs: d.StatementIDs, Statements: statements}
	if out.StatementIDs == nil {
		out.StatementIDs = []string{}
	}
	if out.Statements == nil {
		out.Statements = []authz.Statement{}
	}
	writeJSON(w, out)
}
