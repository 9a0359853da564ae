package authz

import (
	"errors"
	"fmt"
)

// ErrInvalidPolicy is the sentinel every validation error matches, so that
// protocol adapters can map it with errors.Is (S3: MalformedPolicy).
var ErrInvalidPolicy = errors.New("invalid policy")

// FieldError is a validation error for one field of a policy document,
// named with its path, for example "Statement[1].Action[0]".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %v", e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *FieldError) Unwrap() error {
	return e.Err
}

// Is makes every FieldError match ErrInvalidPolicy.
func (e *FieldError) Is(target error) bool {
	return target == ErrInvalidPolicy
}

func fieldError(field string, err error) error {
	return &FieldError{Field: field, Err: err}
}

// Validate checks a list of statements: each must be valid and the IDs must
// be unique, because decisions name statements by ID.
func Validate(statements []Statement) error {
	seen := make(map[string]bool, len(statements))
	for i, s := range statements {
		if err := s.validate(fmt.Sprintf("statements[%d]", i)); err != nil {
			return err
		}
		if seen[s.ID] {
			return fieldError(fmt.Sprintf("statements[%d].id", i), fmt.Errorf("duplicate statement id %q", s.ID))
		}
		seen[s.ID] = true
	}
	return nil
}

// validate checks one statement; field is its path in error messages.
func (s Statement) validate(field string) error {
	if s.ID == "" {
		return fieldError(field+".id", errors.New("the statement id is empty"))
	}
	if s.Effect != Allow && s.Effect != Deny {
		return fieldError(field+".effect", fmt.Errorf("invalid effect %q: want %q or %q", s.Effect, Allow, Deny))
	}
	checks := []struct {
		name     string
		patterns []string
		check    func(string) error
	}{
		{"principals", s.Principals, validatePrincipal},
		{"actions", s.Actions, validateAction},
		{"resources", s.Resources, validateResource},
	}
	for _, c := range checks {
		if len(c.patterns) == 0 {
			return fieldError(field+"."+c.name, errors.New("the list is empty"))
		}
		for i, pattern := range c.patterns {
			if err := c.check(pattern); err != nil {
				return fieldError(fmt.Sprintf("%s.%s[%d]", field, c.name, i), err)
			}
		}
	}
	for i, c := range s.Conditions {
		if err := c.validate(); err != nil {
			return fieldError(fmt.Sprintf("%s.conditions[%d]", field, i), err)
		}
	}
	return nil
}
