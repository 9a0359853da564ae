package client

import (
	"context"
	"net/http"
	"regexp"
	"time"
)

// Statement is one rule of an access policy, as docs/policies.md
// describes it.
type Statement struct {
	// ID names the statement in decisions and audit events.
	ID string `json:"id"`
	// Effect is "Allow" or "Deny".
	Effect string `json:"effect"`
	// Principals, Actions and Resources are patterns; the statement
	// matches a request when one of each matches.
	Principals []string `json:"principals"`
	Actions    []string `json:"actions"`
	Resources  []string `json:"resources"`
	// Conditions must all hold for the statement to match.
	Conditions []Condition `json:"conditions,omitempty"`
}

// Condition is one condition of a [Statement], such as
// {"operator": "IpAddress", "key": "aws:SourceIp", "values": ["10.0.0.0/8"]}.
type Condition struct {
	// Operator compares the request's value of Key with Values, such as
	// "StringEquals" or "IpAddress".
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Values   []string `json:"values"`
}

// Principal describes the principal of an [ExplainRequest].
type Principal struct {
	// ID is the principal ID, such as
	// "https://sso.example.com/realms/coffer#5f0c2a".
	ID     string         `json:"id"`
	Roles  []string       `json:"roles,omitempty"`
	Groups []string       `json:"groups,omitempty"`
	Claims map[string]any `json:"claims,omitempty"`
}

// ExplainRequest describes a request for [Client.Explain] to decide. The
// server does not perform the request.
type ExplainRequest struct {
	// Principal is the principal to decide for. Nil decides for the
	// caller, with the restriction of the caller's token.
	Principal *Principal `json:"principal,omitempty"`
	// Action and Resource are required, such as "oci:push" and
	// "repo:team-a/app", or "s3:GetObject" and
	// "arn:aws:s3:::releases/app.tar".
	Action   string `json:"action"`
	Resource string `json:"resource"`
	// SourceIP is the client address that IpAddress conditions test. Empty
	// matches no address condition.
	SourceIP string `json:"source_ip,omitempty"`
	// SecureTransport is the value of aws:SecureTransport: whether the
	// request arrives over TLS.
	SecureTransport bool `json:"secure_transport,omitempty"`
	// Time is the request time that date conditions test. Zero uses the
	// server's clock.
	Time time.Time `json:"time,omitzero"`
}

// Explanation is the decision on an [ExplainRequest].
type Explanation struct {
	// Effect is "Allow" or "Deny".
	Effect string `json:"effect"`
	// Reason is "allowed", "explicit deny", "no matching statement" or
	// "outside restriction".
	Reason string `json:"reason"`
	// StatementIDs lists the statements that decided: every matching Deny
	// statement for an explicit deny, every matching Allow statement for an
	// allow, and none for a default deny. Statements are their bodies.
	StatementIDs []string    `json:"statement_ids"`
	Statements   []Statement `json:"statements"`
}

// Allowed reports whether the decision permits the request.
func (e Explanation) Allowed() bool { return e.Effect == "Allow" }

// Explain decides a described request against the server's policies and
// returns the decision with the statements that produced it. The caller
// needs the coffer:policies.explain permission.
func (c *Client) Explain(ctx context.Context, req ExplainRequest) (Explanation, error) {
	var out Explanation
	err := c.callJSON(ctx, http.MethodPost, "/api/v1/policies/explain", nil, req, &out)
	return out, err
}

// Denial is the server's explanation of a request that the access
// policies denied, carried by an [*Error] with status 403.
type Denial struct {
	// Principal is the principal ID of the caller, or "anonymous".
	Principal string
	// Action and Resource name what was denied, such as "s3:DeleteObject"
	// on "arn:aws:s3:::releases/app.tar".
	Action   string
	Resource string
	// Reason is "explicit deny", "no matching statement" or "outside
	// restriction".
	Reason string
}

// ExplainRequest returns the request to pass to [Client.Explain] to see
// the statements behind the denial.
func (d *Denial) ExplainRequest() ExplainRequest {
	return ExplainRequest{Action: d.Action, Resource: d.Resource}
}

// denialPattern matches the 403 detail of the management API:
// "access denied: <principal> may not <action> on <resource> (<reason>)".
var denialPattern = regexp.MustCompile(`^access denied: (\S+) may not (\S+) on (.+) \(([^()]+)\)$`)

// parseDenial returns the denial that a 403 message describes, or nil.
func parseDenial(message string) *Denial {
	m := denialPattern.FindStringSubmatch(message)
	if m == nil {
		return nil
	}
	return &Denial{Principal: m[1], Action: m[2], Resource: m[3], Reason: m[4]}
}
