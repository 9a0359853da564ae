package middleware

import "context"

func contextWithPrincipalHolder(ctx context.Context, h *principalHolder) context.Context {
	return context.WithValue(ctx, principalKey{}, h)
}
