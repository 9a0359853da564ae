package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/pkg/client"
)

// Exit codes of the coffer command. docs/cli/README.md lists them.
const (
	ExitOK          = 0
	ExitError       = 1 // any other failure
	ExitUsage       = 2 // invalid arguments, flags or settings
	ExitNotFound    = 3
	ExitAuth        = 4 // not logged in, rejected credentials or denied
	ExitConflict    = 5 // exists already, not empty, or changed meanwhile
	ExitIntegrity   = 6 // content did not match its digest
	ExitUnavailable = 7 // server unreachable or unavailable after retries
	ExitNotVerified = 8 // coffer verify found no signature that verifies
	ExitInterrupted = 130
)

// usageError marks an error in the command line or settings.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// ExitCode maps an error of a command to the process exit code.
func ExitCode(err error) int {
	var usage usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.Is(err, errNotVerified):
		return ExitNotVerified
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, client.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, client.ErrUnauthorized), errors.Is(err, client.ErrForbidden), errors.Is(err, errNotLoggedIn):
		return ExitAuth
	case errors.Is(err, client.ErrConflict), errors.Is(err, client.ErrPreconditionFailed):
		return ExitConflict
	case errors.Is(err, client.ErrIntegrity):
		return ExitIntegrity
	case errors.Is(err, client.ErrUnavailable):
		return ExitUnavailable
	}
	return ExitError
}

// ErrorHint returns the next step to suggest after err, or "". For a
// request that the access policies denied, it is the policy explain
// command that shows the deciding statements.
func ErrorHint(err error) string {
	var httpErr *client.Error
	if errors.As(err, &httpErr) && httpErr.Denial != nil {
		return fmt.Sprintf("to see the statements behind the denial, run: coffer policy explain %s '%s'", httpErr.Denial.Action, httpErr.Denial.Resource)
	}
	return ""
}
