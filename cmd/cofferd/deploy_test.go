package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cofferhq/coffer/internal/config"
)

// deployDir is where the deployment files live, relative to this package.
const deployDir = "../../deploy"

// object is one parsed Kubernetes object.
type object map[string]any

// get walks a path of map keys and list indexes and returns what it finds,
// or nil.
func (o object) get(path ...any) any {
	var cur any = map[string]any(o)
	for _, step := range path {
		switch key := step.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[key]
		case int:
			l, ok := cur.([]any)
			if !ok || key >= len(l) {
				return nil
			}
			cur = l[key]
		}
	}
	return cur
}

// str returns the string at path, or "".
func (o object) str(path ...any) string {
	s, _ := o.get(path...).(string)
	return s
}

// loadManifests parses every Kubernetes manifest under deploy/kubernetes
// and returns them by kind, checking the fields every object needs.
func loadManifests(t *testing.T) map[string]object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s/kubernetes (%v)", deployDir, err)
	}
	byKind := map[string]object{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var decoded map[string]any
			err := dec.Decode(&decoded)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			o := object(decoded)
			for _, field := range []string{"apiVersion", "kind"} {
				if o.str(field) == "" {
					t.Errorf("%s: an object has no %s", file, field)
				}
			}
			if o.str("metadata", "name") == "" {
				t.Errorf("%s: %s has no metadata.name", file, o.str("kind"))
			}
			byKind[o.str("kind")] = o
		}
	}
	return byKind
}

func TestKubernetesManifests(t *testing.T) {
	objects := loadManifests(t)
	for kind, apiVersion := range map[string]string{"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1"} {
		if got := objects[kind].str("apiVersion"); got != apiVersion {
			t.Errorf("%s: apiVersion %q, want %q", kind, got, apiVersion)
		}
	}
	deployment, service := objects["Deployment"], objects["Service"]

	if replicas, _ := deployment.get("spec", "replicas").(int); replicas != 3 {
		t.Errorf("Deployment: spec.replicas = %v, want 3", deployment.get("spec", "replicas"))
	}
	labels, _ := deployment.get("spec", "template", "metadata", "labels").(map[string]any)
	for _, selector := range []any{deployment.get("spec", "selector", "matchLabels"), service.get("spec", "selector")} {
		s, _ := selector.(map[string]any)
		if len(s) == 0 {
			t.Errorf("empty selector %v", selector)
		}
		for k, v := range s {
			if labels[k] != v {
				t.Errorf("selector %s=%v does not match the pod labels %v", k, v, labels)
			}
		}
	}

	container := object(deployment.get("spec", "template", "spec", "containers", 0).(map[string]any))
	ports := map[string]int{}
	for i := range 2 {
		ports[container.str("ports", i, "name")], _ = container.get("ports", i, "containerPort").(int)
	}
	if ports["http"] != 5000 || ports["s3"] != 9000 {
		t.Errorf("container ports %v, want http 5000 and s3 9000", ports)
	}
	for probe, path := range map[string]string{"startupProbe": "/startupz", "livenessProbe": "/livez", "readinessProbe": "/readyz"} {
		if got := container.str(probe, "httpGet", "path"); got != path {
			t.Errorf("%s path %q, want %q", probe, got, path)
		}
		if got := container.str(probe, "httpGet", "port"); got != "http" {
			t.Errorf("%s port %q, want the http port, where cofferd serves the probes", probe, got)
		}
	}
	for i, target := range []string{"http", "s3"} {
		if got := service.str("spec", "ports", i, "targetPort"); got != target {
			t.Errorf("Service port %d targets %q, want %q", i, got, target)
		}
	}
	if got := container.str("envFrom", 0, "secretRef", "name"); got != objects["Secret"].str("metadata", "name") {
		t.Errorf("container takes its environment from Secret %q, want %q", got, objects["Secret"].str("metadata", "name"))
	}
	if got := deployment.str("spec", "template", "spec", "volumes", 0, "configMap", "name"); got != objects["ConfigMap"].str("metadata", "name") {
		t.Errorf("config volume names ConfigMap %q, want %q", got, objects["ConfigMap"].str("metadata", "name"))
	}

	args := stringList(t, container.get("args"))
	flags := wantServerFlags(t, "container args", args)
	if flags.ConfigFile != "/etc/coffer/cofferd.yaml" || container.str("volumeMounts", 0, "mountPath") != "/etc/coffer" {
		t.Errorf("--config %q is not the cofferd.yaml of the config volume mounted at %q",
			flags.ConfigFile, container.str("volumeMounts", 0, "mountPath"))
	}

	secret, _ := objects["Secret"].get("stringData").(map[string]any)
	var environ []string
	for k, v := range secret {
		environ = append(environ, k+"="+v.(string))
	}
	cfg := wantLoadable(t, objects["ConfigMap"].str("data", "cofferd.yaml"), environ)
	if cfg.Listen != "0.0.0.0:5000" || cfg.S3.Listen != "0.0.0.0:9000" {
		t.Errorf("listen %s and s3.listen %s, want the container ports on every interface", cfg.Listen, cfg.S3.Listen)
	}
	if cfg.Storage.Driver != "s3" || cfg.Metadata.Driver != "postgres" || cfg.Metadata.Postgres.URL == "" || cfg.Root.User == "" {
		t.Errorf("configuration %+v %+v is not a scaled-out one with root credentials", cfg.Storage, cfg.Metadata)
	}
}

func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "cofferd.service"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string]string{}
	var current string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			current = strings.Trim(line, "[]")
			sections[current] = map[string]string{}
		case current != "" && strings.Contains(line, "="):
			key, value, _ := strings.Cut(line, "=")
			sections[current][key] = value
		default:
			t.Errorf("line %q is neither a section, a key=value pair nor a comment", line)
		}
	}
	for _, name := range []string{"Unit", "Service", "Install"} {
		if sections[name] == nil {
			t.Errorf("unit has no [%s] section", name)
		}
	}
	if sections["Install"]["WantedBy"] == "" {
		t.Error("[Install] has no WantedBy")
	}

	exec := strings.Fields(sections["Service"]["ExecStart"])
	if len(exec) == 0 || filepath.Base(exec[0]) != "cofferd" {
		t.Fatalf("ExecStart %q does not run cofferd", sections["Service"]["ExecStart"])
	}
	flags := wantServerFlags(t, "ExecStart", exec[1:])
	if flags.ConfigFile != "/etc/coffer/cofferd.yaml" {
		t.Errorf("ExecStart --config %q, want /etc/coffer/cofferd.yaml", flags.ConfigFile)
	}
	example, err := os.ReadFile(filepath.Join(deployDir, "cofferd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantLoadable(t, string(example), []string{"COFFER_METADATA_POSTGRES_URL=postgres://coffer@db:5432/coffer"})
}

func TestContainerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(deployDir, "Containerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"CGO_ENABLED=0", "go build", "./cmd/cofferd", "FROM scratch", "USER 65532", `ENTRYPOINT ["/usr/local/bin/cofferd"]`} {
		if !strings.Contains(text, want) {
			t.Errorf("Containerfile does not contain %q", want)
		}
	}
	var cmd []string
	for line := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(line, "CMD "); ok {
			if err := yaml.Unmarshal([]byte(rest), &cmd); err != nil {
				t.Fatalf("CMD %q is not a JSON list: %v", rest, err)
			}
		}
	}
	wantServerFlags(t, "Containerfile CMD", cmd)
}

// wantServerFlags checks that cofferd's server command accepts args.
func wantServerFlags(t *testing.T, what string, args []string) config.Flags {
	t.Helper()
	var flags config.Flags
	fs, _ := serverFlagSet(&flags)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		t.Errorf("%s %q: cofferd rejects the flags: %v", what, args, err)
	}
	if fs.NArg() > 0 {
		t.Errorf("%s %q: cofferd takes no arguments, got %q", what, args, fs.Args())
	}
	return flags
}

// wantLoadable checks that cofferd's configuration loader accepts a file
// with the given environment.
func wantLoadable(t *testing.T, content string, environ []string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cofferd.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, unknown, err := config.Load(config.Flags{ConfigFile: path}, environ)
	if err != nil {
		t.Fatalf("cofferd rejects the configuration: %v", err)
	}
	if len(unknown) > 0 {
		t.Errorf("environment variables %v match no configuration key", unknown)
	}
	return cfg
}

// stringList converts a parsed YAML list of strings.
func stringList(t *testing.T, v any) []string {
	t.Helper()
	items, _ := v.([]any)
	var out []string
	for _, item := range items {
		s, ok := item.(string)
		if !ok {
			t.Fatalf("list item %v is not a string", item)
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}
