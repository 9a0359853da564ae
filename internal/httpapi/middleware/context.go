package middleware

import "context"

func contextWithPrincipalHolder(ctx context.Context, h *principalHolder) context.Context {
	return context.WithValue(ctx, principalKey{}, h)
}

// SetPrincipal records the authenticated principal of the request for its
// access-log line. Authentication layers outside this package call it.
func SetPrincipal(ctx context.Context, subject string) {
	if holder, ok := ctx.Value(principalKey{}).(*principalHolder); ok {
		holder.subject = subject
	}
}
