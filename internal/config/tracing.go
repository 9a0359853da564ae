package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// tracingSamplers are the sampler names of OTEL_TRACES_SAMPLER that the
// OpenTelemetry Go SDK implements.
var tracingSamplers = []string{
	"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
}

// validate checks the tracing keys that are set; empty keys fall back to
// OTEL_* variables, which the SDK checks when tracing starts.
func (t Tracing) validate() []error {
	var errs []error
	check := func(key string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("tracing.%s: %w", key, err))
		}
	}
	if t.Endpoint != "" {
		check("endpoint", validateEndpoint(t.Endpoint))
	}
	if t.Protocol != "" {
		check("protocol", oneOf(t.Protocol, "http/protobuf", "grpc"))
	}
	if t.Sampler != "" {
		check("sampler", oneOf(t.Sampler, tracingSamplers...))
	}
	if t.SamplerArg != "" {
		ratio, err := strconv.ParseFloat(t.SamplerArg, 64)
		if err != nil || ratio < 0 || ratio > 1 {
			check("sampler_arg", fmt.Errorf("invalid ratio %q: expected a number from 0 to 1", t.SamplerArg))
		}
	}
	return errs
}

// validateEndpoint accepts an absolute http or https URL.
func validateEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("invalid endpoint %q: expected a URL such as http://collector:4318", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("the endpoint must not have a query or fragment")
	}
	return nil
}
