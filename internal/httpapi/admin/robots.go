package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
)

// robotPrincipal returns the principal ID of a robot.
func robotPrincipal(name string) string {
	return identity.CofferIssuer + "#" + identity.RobotUserPrefix + name
}

// createRobot creates a robot account: a principal of its own,
// coffer#robot$<name>, that policies grant rights to, optionally narrowed
// by scopes. The secret is in this response only.
func (h *Handler) createRobot(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	body, expires, restriction, err := decodeCredentialRequest(r, now)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if !robotNamePattern.MatchString(body.Name) {
		WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("invalid robot name %q: expected 1 to 64 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit", body.Name))
		return
	}
	if !h.allow(w, r, authz.ActionRobotsCreate, robotResource(body.Name)) {
		return
	}
	h.issue(w, r, metadata.Credential{
		Kind:        metadata.CredentialRobot,
		Name:        body.Name,
		Owner:       robotPrincipal(body.Name),
		CreatedBy:   caller(r).Principal.ID,
		Restriction: restriction,
		Created:     now,
		Expires:     expires,
	})
}

// activeRobots returns the robots that are not deleted, of one name unless
// name is empty.
func (h *Handler) activeRobots(r *http.Request, name string) ([]metadata.Credential, error) {
	owner := ""
	if name != "" {
		owner = robotPrincipal(name)
	}
	list, err := h.identities.ListCredentials(r.Context(), metadata.CredentialRobot, owner)
	if err != nil {
		return nil, err
	}
	active := list[:0]
	for _, c := range list {
		if c.Revoked.IsZero() {
			active = append(active, c)
		}
	}
	return active, nil
}

func (h *Handler) listRobots(w http.ResponseWriter, r *http.Request) {
	list, err := h.activeRobots(r, "")
	if err != nil {
		writeIdentityError(w, r, err)
		return
	}
	writeCredentials(w, list)
}

// robot returns the active robot of the name in the path, or writes 404.
func (h *Handler) robot(w http.ResponseWriter, r *http.Request) (metadata.Credential, bool) {
	name := r.PathValue("name")
	list, err := h.activeRobots(r, name)
	if err == nil && len(list) == 0 {
		err = fmt.Errorf("robot %s: %w", name, metadata.ErrNotFound)
	}
	if err != nil {
		writeIdentityError(w, r, err)
		return metadata.Credential{}, false
	}
	return list[0], true
}

func (h *Handler) getRobot(w http.ResponseWriter, r *http.Request) {
	if c, ok := h.robot(w, r); ok {
		writeJSON(w, toCredentialJSON(c))
	}
}

// deleteRobot revokes the robot's secret, so its next request fails, and
// frees its name. The revoked record stays for the audit trail.
func (h *Handler) deleteRobot(w http.ResponseWriter, r *http.Request) {
	c, ok := h.robot(w, r)
	if !ok {
		return
	}
	if err := h.identities.RevokeCredential(r.Context(), c.ID, time.Now().UTC()); err != nil {
		writeIdentityError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
