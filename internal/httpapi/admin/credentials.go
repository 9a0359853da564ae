package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// IdentityStore stores the credentials and policies that the management
// API issues and edits.
type IdentityStore interface {
	CreateCredential(ctx context.Context, c metadata.Credential) error
	GetCredential(ctx context.Context, id string) (metadata.Credential, error)
	ListCredentials(ctx context.Context, kind, owner string) ([]metadata.Credential, error)
	RevokeCredential(ctx context.Context, id string, at time.Time) error
	PutPolicy(ctx context.Context, p metadata.StoredPolicy) (bool, error)
	GetPolicy(ctx context.Context, id string) (metadata.StoredPolicy, error)
	ListPolicies(ctx context.Context) ([]metadata.StoredPolicy, error)
	DeletePolicy(ctx context.Context, id string) error
}

// Explainer decides a request and returns the statements that produced
// the decision. *identity.Authorizer implements it.
type Explainer interface {
	Explain(ctx context.Context, id identity.Identity, req authz.Request) (authz.Decision, []authz.Statement, error)
}

// maxNameLength bounds token names and policy descriptions.
const maxNameLength = 200

// EnableIdentity serves /api/v1/tokens, /api/v1/robots and
// /api/v1/policies over store, with explainer serving
// /api/v1/policies/explain.
func (h *Handler) EnableIdentity(store IdentityStore, explainer Explainer) {
	h.identities, h.explainer = store, explainer
	h.handle("POST /api/v1/tokens", onCaller(authz.ActionTokensCreate), h.createToken)
	h.handle("GET /api/v1/tokens", onOwnerQuery(authz.ActionTokensList), h.listTokens)
	h.handle("GET /api/v1/tokens/{id}", h.onToken(authz.ActionTokensList), h.getToken)
	h.handle("DELETE /api/v1/tokens/{id}", h.onToken(authz.ActionTokensRevoke), h.revokeToken)
	h.handle("POST /api/v1/robots", inHandler, h.createRobot)
	h.handle("GET /api/v1/robots", fixed(authz.ActionRobotsList, robotResource("*")), h.listRobots)
	h.handle("GET /api/v1/robots/{name}", onPath(authz.ActionRobotsList, "name", robotResource), h.getRobot)
	h.handle("DELETE /api/v1/robots/{name}", onPath(authz.ActionRobotsDelete, "name", robotResource), h.deleteRobot)
	h.registerPolicies()
}

// Scope is one entry of a credential's restriction: the credential may do
// at most these actions on these resources.
type Scope struct {
	Actions   []string `json:"actions"`
	Resources []string `json:"resources"`
}

// credentialRequest is the body of POST /api/v1/tokens and /api/v1/robots.
type credentialRequest struct {
	Name string `json:"name"`
	// ExpiresIn is a Go duration such as "720h"; ExpiresAt an RFC 3339
	// time. At most one may be set; with neither the credential does not
	// expire.
	ExpiresIn string    `json:"expires_in,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Scopes    []Scope   `json:"scopes,omitempty"`
}

// credentialJSON is a token or robot as the API shows it. Secret is set
// only in the response that creates the credential.
type credentialJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Owner     string    `json:"owner"`
	User      string    `json:"user,omitempty"`
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires,omitzero"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	Revoked   time.Time `json:"revoked,omitzero"`
	Scopes    []Scope   `json:"scopes,omitempty"`
	Secret    string    `json:"secret,omitempty"`
}

// decodeCredentialRequest reads and checks a credential request, and
// returns the expiry and the encoded restriction.
func decodeCredentialRequest(r *http.Request, now time.Time) (credentialRequest, time.Time, []byte, error) {
	var body credentialRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return body, time.Time{}, nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	if body.ExpiresIn != "" && !body.ExpiresAt.IsZero() {
		return body, time.Time{}, nil, errors.New("set expires_in or expires_at, not both")
	}
	expires := body.ExpiresAt
	if body.ExpiresIn != "" {
		d, err := time.ParseDuration(body.ExpiresIn)
		if err != nil || d <= 0 {
			return body, time.Time{}, nil, fmt.Errorf("invalid expires_in %q: expected a positive duration such as 720h", body.ExpiresIn)
		}
		expires = now.Add(d)
	}
	if !expires.IsZero() && !expires.After(now) {
		return body, time.Time{}, nil, fmt.Errorf("invalid expires_at %s: the time is in the past", expires.Format(time.RFC3339))
	}
	restriction, err := encodeScopes(body.Scopes)
	return body, expires.UTC(), restriction, err
}

// encodeScopes turns scopes into the JSON of a restriction policy, or nil
// for no scopes.
func encodeScopes(scopes []Scope) ([]byte, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	statements := make([]authz.Statement, len(scopes))
	for i, s := range scopes {
		statements[i] = authz.Statement{
			ID:         fmt.Sprintf("scope-%d", i),
			Effect:     authz.Allow,
			Principals: []string{authz.PrincipalAuthenticated},
			Actions:    s.Actions,
			Resources:  s.Resources,
		}
	}
	if err := authz.Validate(statements); err != nil {
		return nil, fmt.Errorf("invalid scopes: %w", err)
	}
	return json.Marshal(authz.Policy{Statements: statements})
}

// decodeScopes returns the scopes of a stored restriction.
func decodeScopes(restriction []byte) []Scope {
	if restriction == nil {
		return nil
	}
	var p authz.Policy
	if err := json.Unmarshal(restriction, &p); err != nil {
		return nil
	}
	scopes := make([]Scope, 0, len(p.Statements))
	for _, s := range p.Statements {
		scopes = append(scopes, Scope{Actions: s.Actions, Resources: s.Resources})
	}
	return scopes
}

// toCredentialJSON converts a stored credential for a response.
func toCredentialJSON(c metadata.Credential) credentialJSON {
	out := credentialJSON{
		ID: c.ID, Name: c.Name, Owner: c.Owner, CreatedBy: c.CreatedBy, Created: c.Created,
		Expires: c.Expires, LastUsed: c.LastUsed, Revoked: c.Revoked, Scopes: decodeScopes(c.Restriction),
	}
	if c.Kind == metadata.CredentialRobot {
		out.User = identity.RobotUserPrefix + c.Name
	}
	return out
}

// writeCredentials writes credentials as one page, without secrets.
func writeCredentials(w http.ResponseWriter, list []metadata.Credential) {
	items := make([]credentialJSON, 0, len(list))
	for _, c := range list {
		items = append(items, toCredentialJSON(c))
	}
	writeJSON(w, Page[credentialJSON]{Items: items})
}

// issue gives c a new ID and secret, stores it and writes it with the
// secret.
func (h *Handler) issue(w http.ResponseWriter, r *http.Request, c metadata.Credential) {
	id, secret, hash, err := identity.NewSecret(c.Kind)
	if err != nil {
		telemetry.Logger(r.Context()).Error("generating a secret failed", "kind", c.Kind, "error", err)
		WriteProblem(w, r, http.StatusServiceUnavailable, "no secret could be generated; retry later")
		return
	}
	c.ID, c.SecretHash = id, hash
	if err := h.identities.CreateCredential(r.Context(), c); err != nil {
		writeIdentityError(w, r, err)
		return
	}
	out := toCredentialJSON(c)
	out.Secret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSONStatus(w, http.StatusCreated, out)
}

// writeIdentityError maps store errors of the identity routes.
func writeIdentityError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, metadata.ErrNotFound):
		WriteProblem(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, metadata.ErrAlreadyExists):
		WriteProblem(w, r, http.StatusConflict, err.Error())
	default:
		telemetry.Logger(r.Context()).Error("identity store failed", "path", r.URL.Path, "error", err)
		WriteProblem(w, r, http.StatusServiceUnavailable, "the metadata store is unavailable; retry later")
	}
}

// caller returns the identity of the request.
func caller(r *http.Request) identity.Identity {
	id, _ := identity.FromContext(r.Context())
	return id
}

// robotNamePattern is the syntax of robot names: they appear in user names
// (robot$<name>) and principal IDs, so they stay short and plain.
var robotNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// robotResource returns the resource of a robot.
func robotResource(name string) string {
	return authz.ManagementResource("robots", name)
}
