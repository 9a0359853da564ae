// Package sts serves the part of the AWS Security Token Service that
// Coffer implements: AssumeRoleWithWebIdentity, which exchanges an OpenID
// Connect access token for temporary S3 credentials. It speaks AWS's query
// protocol (form parameters in, XML out) so that the AWS CLI, boto3 and
// the other SDKs work with --endpoint-url pointed at Coffer's S3 endpoint.
package sts

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// apiVersion is the STS API version the SDKs send, and namespace the XML
// namespace of the responses.
const (
	apiVersion = "2011-06-15"
	namespace  = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// maxFormBytes bounds the form of a request: a large access token plus a
// session policy fit with room to spare.
const maxFormBytes = 64 << 10

// TokenResolver validates a web identity token; *identity.Resolver
// implements it with its Bearer method.
type TokenResolver interface {
	Bearer(ctx context.Context, token string) (identity.Identity, error)
}

// Issuer issues temporary credentials; *identity.Sessions implements it.
type Issuer interface {
	Issue(id identity.Identity, duration time.Duration, policy []authz.Statement) (identity.SessionCredentials, error)
}

// Handler serves AssumeRoleWithWebIdentity.
type Handler struct {
	tokens TokenResolver
	issuer Issuer
}

// New returns the STS handler.
func New(tokens TokenResolver, issuer Issuer) *Handler {
	return &Handler{tokens: tokens, issuer: issuer}
}

// Error is an STS error response.
type Error struct {
	Code    string
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func validationError(format string, args ...any) *Error {
	return &Error{Code: "ValidationError", Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// The shapes AWS requires of the role ARN and the session name.
var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{0,12}:role/[\w+=,.@/-]{1,512}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeError(w, r, validationError("The request parameters could not be read: %v", err))
		return
	}
	result, err := h.assumeRole(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeXML(w, http.StatusOK, assumeRoleResponse{
		Xmlns:    namespace,
		Result:   *result,
		Metadata: responseMetadata{RequestID: requestID(w)},
	})
}

// assumeRole checks the parameters and the token and issues credentials.
func (h *Handler) assumeRole(r *http.Request) (*assumeRoleResult, error) {
	form := r.Form
	if action := form.Get("Action"); action != "AssumeRoleWithWebIdentity" {
		return nil, &Error{Code: "InvalidAction", Status: http.StatusBadRequest, Message: fmt.Sprintf("Could not find operation %q for version %s; Coffer implements AssumeRoleWithWebIdentity only", action, apiVersion)}
	}
	if version := form.Get("Version"); version != "" && version != apiVersion {
		return nil, &Error{Code: "InvalidAction", Status: http.StatusBadRequest, Message: fmt.Sprintf("Version %q is not supported; use %s", version, apiVersion)}
	}
	for _, name := range []string{"RoleArn", "RoleSessionName", "WebIdentityToken"} {
		if form.Get(name) == "" {
			return nil, &Error{Code: "MissingParameter", Status: http.StatusBadRequest, Message: "The request must contain the parameter " + name}
		}
	}
	roleARN, sessionName := form.Get("RoleArn"), form.Get("RoleSessionName")
	if !roleARNPattern.MatchString(roleARN) {
		return nil, validationError("Value %q at 'roleArn' failed to satisfy constraint: want arn:aws:iam::<account>:role/<name>", roleARN)
	}
	if !sessionNamePattern.MatchString(sessionName) {
		return nil, validationError("Value %q at 'roleSessionName' failed to satisfy constraint: 2 to 64 characters of letters, digits and +=,.@_-", sessionName)
	}
	duration, err := parseDuration(form.Get("DurationSeconds"))
	if err != nil {
		return nil, err
	}
	var policy []authz.Statement
	if document := form.Get("Policy"); document != "" {
		if policy, err = authz.ParseSessionPolicy([]byte(document)); err != nil {
			return nil, &Error{Code: "MalformedPolicyDocument", Status: http.StatusBadRequest, Message: err.Error()}
		}
	}

	id, err := h.tokens.Bearer(r.Context(), form.Get("WebIdentityToken"))
	if err != nil {
		return nil, tokenError(r, err)
	}
	audit.SetIdentity(r.Context(), id.Principal.ID, id.Principal.Method, id.CredentialID)
	creds, err := h.issuer.Issue(id, duration, policy)
	if err != nil {
		return nil, fmt.Errorf("issue credentials for %s: %w", id.Principal.ID, err)
	}
	return newResult(id, creds, roleARN, sessionName, len(form.Get("Policy"))), nil
}

// parseDuration reads DurationSeconds: 900 to 43200, default 3600.
func parseDuration(value string) (time.Duration, error) {
	if value == "" {
		return identity.DefaultSessionDuration, nil
	}
	seconds, err := strconv.Atoi(value)
	d := time.Duration(seconds) * time.Second
	if err != nil || d < identity.MinSessionDuration || d > identity.MaxSessionDuration {
		return 0, validationError("Value %q at 'durationSeconds' failed to satisfy constraint: Member must be between %d and %d",
			value, int(identity.MinSessionDuration.Seconds()), int(identity.MaxSessionDuration.Seconds()))
	}
	return d, nil
}

// tokenError maps a rejected web identity token to AWS's codes.
func tokenError(r *http.Request, err error) error {
	switch {
	case errors.Is(err, authn.ErrUnavailable):
		telemetry.Logger(r.Context()).ErrorContext(r.Context(), "web identity token check failed", "error", err)
		return &Error{Code: "IDPCommunicationError", Status: http.StatusBadRequest, Message: "The identity provider could not be reached to validate the web identity token. Please retry."}
	case errors.Is(err, oidc.ErrExpired):
		return &Error{Code: "ExpiredTokenException", Status: http.StatusBadRequest, Message: "Token is expired"}
	}
	telemetry.Logger(r.Context()).InfoContext(r.Context(), "web identity token rejected", "reason", oidc.Reason(err))
	return &Error{Code: "InvalidIdentityToken", Status: http.StatusBadRequest, Message: "The web identity token is not valid: " + oidc.Reason(err)}
}

// requestID returns the request's ID, which the middleware has set.
func requestID(w http.ResponseWriter) string {
	return w.Header().Get("X-Request-Id")
}

// writeError writes the STS XML error body of err; an error that is not
// an *Error is an internal failure.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var stsErr *Error
	if !errors.As(err, &stsErr) {
		telemetry.Logger(r.Context()).ErrorContext(r.Context(), "request failed", "error", err)
		stsErr = &Error{Code: "InternalFailure", Status: http.StatusInternalServerError, Message: "The request processing has failed because of an unknown error."}
	}
	kind := "Sender"
	if stsErr.Status >= 500 {
		kind = "Receiver"
	}
	writeXML(w, stsErr.Status, errorResponse{
		Xmlns:     namespace,
		Error:     errorDetail{Type: kind, Code: stsErr.Code, Message: stsErr.Message},
		RequestID: requestID(w),
	})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID(w))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// subject splits a principal ID "<issuer>#<subject>" into its parts.
func subject(principalID string) (issuer, sub string) {
	issuer, sub, _ = strings.Cut(principalID, "#")
	return issuer, sub
}
