package client

import "sync"

// syncOnceValue computes a value once, on first use.
type syncOnceValue[T any] struct {
	once  sync.Once
	value T
}

func (o *syncOnceValue[T]) get(compute func() T) T {
	o.once.Do(func() { o.value = compute() })
	return o.value
}
