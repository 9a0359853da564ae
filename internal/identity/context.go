package identity

import "context"

type contextKey struct{}

// NewContext returns a copy of ctx that carries id, so that handlers behind
// the authentication layer can decide for it.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the identity that NewContext stored, and false when
// there is none, for example for a handler that no authentication layer
// wraps.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(contextKey{}).(Identity)
	return id, ok
}
