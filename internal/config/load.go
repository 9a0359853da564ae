package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable cofferd reads.
const EnvPrefix = "COFFER_"

// Flags are the command-line overrides. Empty values leave the
// configuration unchanged.
type Flags struct {
	ConfigFile string
	DataDir    string
	Listen     string
	S3Listen   string
	TLSCert    string
	TLSKey     string
	LogFormat  string
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.ConfigFile, "config", "", "path of a YAML configuration file")
	fs.StringVar(&f.DataDir, "data-dir", "", "directory for blobs, metadata and root credentials (default ./coffer-data)")
	fs.StringVar(&f.Listen, "listen", "", "address of the OCI and management API (default 127.0.0.1:5000)")
	fs.StringVar(&f.S3Listen, "s3-listen", "", "address of the S3 API (default 127.0.0.1:9000)")
	fs.StringVar(&f.TLSCert, "tls-cert", "", "PEM certificate chain; enables HTTPS with --tls-key")
	fs.StringVar(&f.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&f.LogFormat, "log-format", "", "log format: text or json (default text)")
}

// Load builds the configuration from the defaults, the file named by
// flags.ConfigFile (if any), the environment and the flags, then validates
// it. environ is a list of KEY=VALUE strings as returned by os.Environ.
// It returns the configuration and the names of COFFER_* variables that
// match no key, which the caller should log.
func Load(flags Flags, environ []string) (Config, []string, error) {
	cfg := Default()

	if flags.ConfigFile != "" {
		data, err := os.ReadFile(flags.ConfigFile)
		if err != nil {
			return Config{}, nil, fmt.Errorf("read config file: %w", err)
		}
		if err := decodeYAML(data, &cfg); err != nil {
			return Config{}, nil, fmt.Errorf("config file %s: %w", flags.ConfigFile, err)
		}
	}

	unknown, err := applyEnv(&cfg, environ)
	if err != nil {
		return Config{}, nil, err
	}
	flags.apply(&cfg)
	cfg.resolvePaths()

	if err := cfg.Validate(); err != nil {
		return Config{}, unknown, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, unknown, nil
}

func (f Flags) apply(cfg *Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.DataDir, f.DataDir)
	set(&cfg.Listen, f.Listen)
	set(&cfg.S3.Listen, f.S3Listen)
	set(&cfg.TLS.Cert, f.TLSCert)
	set(&cfg.TLS.Key, f.TLSKey)
	set(&cfg.Log.Format, f.LogFormat)
}

// decodeYAML decodes strictly: a key that matches no field is an error
// naming the key and its line.
func decodeYAML(data []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if errors.Is(err, io.EOF) {
		return nil // an empty file keeps the defaults
	}
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		return namedTypeErrors(data, typeErr.Errors)
	}
	return err
}

// namedTypeErrors rewrites yaml's "line N: cannot unmarshal ..." messages
// so that each names the configuration key defined on that line.
func namedTypeErrors(data []byte, messages []string) error {
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	keys := map[int]string{}
	collectKeyLines(&root, "", keys)

	var errs []error
	for _, msg := range messages {
		var line int
		if _, err := fmt.Sscanf(msg, "line %d:", &line); err == nil && keys[line] != "" {
			_, detail, _ := strings.Cut(msg, ": ")
			msg = fmt.Sprintf("%s (line %d): %s", keys[line], line, detail)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// collectKeyLines maps the line of every mapping key to its dotted path.
func collectKeyLines(n *yaml.Node, prefix string, out map[int]string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			collectKeyLines(c, prefix, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i], n.Content[i+1]
			path := key.Value
			if prefix != "" {
				path = prefix + "." + key.Value
			}
			out[key.Line] = path
			if value.Line != key.Line {
				out[value.Line] = path
			}
			collectKeyLines(value, path, out)
		}
	}
}

// applyEnv sets every field whose environment variable is present and
// returns the COFFER_* variables that match no field.
func applyEnv(cfg *Config, environ []string) ([]string, error) {
	fields := map[string]reflect.Value{}
	collectEnvFields(reflect.ValueOf(cfg).Elem(), nil, fields, nil)

	var unknown []string
	var errs []error
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		field, ok := fields[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if err := setFromString(field, value); err != nil {
			errs = append(errs, fmt.Errorf("environment variable %s: %w", name, err))
		}
	}
	return unknown, errors.Join(errs...)
}

// EnvNames returns the environment variable of every configuration key,
// in declaration order; the docs list them.
func EnvNames() []string {
	fields := map[string]reflect.Value{}
	var names []string
	collectEnvFields(reflect.ValueOf(&Config{}).Elem(), nil, fields, &names)
	return names
}

// collectEnvFields maps the environment variable of every leaf field below
// v to the field, and appends the names in declaration order when names is
// not nil.
func collectEnvFields(v reflect.Value, path []string, out map[string]reflect.Value, names *[]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fieldPath := append(append([]string(nil), path...), tag)
		field := v.Field(i)
		if field.Kind() == reflect.Struct {
			collectEnvFields(field, fieldPath, out, names)
			continue
		}
		name := EnvPrefix + strings.ToUpper(strings.Join(fieldPath, "_"))
		out[name] = field
		if names != nil {
			*names = append(*names, name)
		}
	}
}

var durationType = reflect.TypeOf(time.Duration(0))

func setFromString(field reflect.Value, value string) error {
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("invalid duration %q", value)
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(value)
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, item := range strings.Split(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		field.Set(reflect.ValueOf(items))
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.Struct:
		// A list of records, such as webhooks.subscriptions, is a JSON
		// array, which the strict YAML decoder reads as well.
		return decodeJSON(field, value, "array")
	case field.Kind() == reflect.Map:
		// A map, such as auth.roles.groups, is a JSON object.
		return decodeJSON(field, value, "object")
	case field.Kind() == reflect.Int64 || field.Kind() == reflect.Int:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q", value)
		}
		field.SetInt(n)
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("invalid boolean %q", value)
		}
		field.SetBool(b)
	default:
		return fmt.Errorf("unsupported field type %s", field.Type())
	}
	return nil
}

// decodeJSON sets field from a JSON value of the given kind ("array" or
// "object"), read with the strict YAML decoder.
func decodeJSON(field reflect.Value, value, kind string) error {
	dec := yaml.NewDecoder(strings.NewReader(value))
	dec.KnownFields(true)
	v := reflect.New(field.Type())
	if err := dec.Decode(v.Interface()); err != nil {
		return fmt.Errorf("invalid JSON %s: %w", kind, err)
	}
	field.Set(v.Elem())
	return nil
}
