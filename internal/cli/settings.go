package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// Settings are the CLI's settings after every source is applied. Each
// setting comes from, in order of precedence: its command-line flag, its
// COFFER_* environment variable, the config file, the default.
type Settings struct {
	// Server is the cofferd URL. Default http://127.0.0.1:5000.
	Server string `yaml:"server"`
	// Output is "text" or "json". Default text.
	Output string `yaml:"output"`
	// Progress is "auto" (bars when stderr is a terminal), "always" or
	// "never". Default auto.
	Progress string `yaml:"progress"`
	// ChunkSizeMiB is the size of one upload request in MiB. Default 16.
	ChunkSizeMiB int `yaml:"chunk_size_mib"`
	// Parallel is how many files cp -r moves at once. Default 4.
	Parallel int `yaml:"parallel"`
	// DownloadParts is how many 16 MiB ranges of one object cp downloads
	// at once. Default 1: one stream in order, hashed as it arrives.
	DownloadParts int `yaml:"download_parts"`
	// Retries is the number of attempts of a request. Default 4.
	Retries int `yaml:"retries"`
	// CredentialsFile stores login credentials, mode 0600. Default
	// credentials.json beside the config file.
	CredentialsFile string `yaml:"credentials_file"`
	// CredentialsStore is the store of login credentials: "auto",
	// "keyring" or "file". Default auto, which uses the OS keyring when a
	// lookup in it succeeds and CredentialsFile otherwise.
	CredentialsStore string `yaml:"credentials_store"`
	// StateDir keeps the sessions of interrupted uploads. Default
	// $XDG_STATE_HOME/coffer or ~/.local/state/coffer.
	StateDir string `yaml:"state_dir"`
}

// setting ties one Settings field to its flag, environment variable and
// config key.
type setting struct {
	key   string // config key and flag name with _ replaced by -
	usage string
	def   string
	field func(*Settings) any
}

var settingTable = []setting{
	{"server", "cofferd URL", "http://127.0.0.1:5000", func(s *Settings) any { return &s.Server }},
	{"output", "output format: text or json", "text", func(s *Settings) any { return &s.Output }},
	{"progress", "progress bars: auto (on a terminal), always or never", "auto", func(s *Settings) any { return &s.Progress }},
	{"chunk_size_mib", "size of one upload request in MiB; a broken connection resends at most one", "16", func(s *Settings) any { return &s.ChunkSizeMiB }},
	{"parallel", "files transferred at once by cp --recursive", "4", func(s *Settings) any { return &s.Parallel }},
	{"download_parts", "16 MiB ranges of one object that cp downloads at once; 1 downloads in order, hashing as it goes", "1", func(s *Settings) any { return &s.DownloadParts }},
	{"retries", "attempts of a request that fails with a network error, 429 or 503", "4", func(s *Settings) any { return &s.Retries }},
	{"credentials_file", "file that stores login credentials (mode 0600); default credentials.json beside the config file", "", func(s *Settings) any { return &s.CredentialsFile }},
	{"credentials_store", "where login stores credentials: auto (the OS keyring when available, else the credentials file), keyring or file", "auto", func(s *Settings) any { return &s.CredentialsStore }},
	{"state_dir", "folder that keeps interrupted uploads for resuming; default $XDG_STATE_HOME/coffer", "", func(s *Settings) any { return &s.StateDir }},
}

// flagName returns the command-line flag of a config key.
func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// envName returns the environment variable of a config key.
func envName(key string) string { return "COFFER_" + strings.ToUpper(key) }

// registerSettingFlags adds one persistent flag for each setting.
func registerSettingFlags(flags *pflag.FlagSet) {
	for _, s := range settingTable {
		name := flagName(s.key)
		usage := s.usage + " (env " + envName(s.key) + ")"
		switch name {
		case "server":
			flags.StringP(name, "s", "", usage+" (default \""+s.def+"\")")
		case "output":
			flags.StringP(name, "o", "", usage+" (default \""+s.def+"\")")
		default:
			if s.def != "" {
				usage += " (default " + s.def + ")"
			}
			if _, isInt := s.field(&Settings{}).(*int); isInt {
				flags.Int(name, 0, usage)
			} else {
				flags.String(name, "", usage)
			}
		}
	}
}

// loadSettings applies defaults, the config file, the environment and the
// flags that were set, in that order.
func loadSettings(flags *pflag.FlagSet, configPath string, getenv func(string) string) (Settings, error) {
	var s Settings
	for _, entry := range settingTable {
		if err := setField(&s, entry, entry.def); err != nil {
			return s, err
		}
	}
	if err := readConfigFile(&s, configPath); err != nil {
		return s, err
	}
	for _, entry := range settingTable {
		if value := getenv(envName(entry.key)); value != "" {
			if err := setField(&s, entry, value); err != nil {
				return s, fmt.Errorf("environment variable %s: %w", envName(entry.key), err)
			}
		}
		if flag := flags.Lookup(flagName(entry.key)); flag != nil && flag.Changed {
			if err := setField(&s, entry, flag.Value.String()); err != nil {
				return s, fmt.Errorf("flag --%s: %w", flag.Name, err)
			}
		}
	}
	if s.CredentialsFile == "" {
		s.CredentialsFile = filepath.Join(filepath.Dir(configPath), "credentials.json")
	}
	if s.StateDir == "" {
		s.StateDir = defaultStateDir(getenv)
	}
	return s, s.validate()
}

func setField(s *Settings, entry setting, value string) error {
	switch p := entry.field(s).(type) {
	case *string:
		*p = value
	case *int:
		if value == "" {
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%s must be an integer, got %q", entry.key, value)
		}
		*p = n
	}
	return nil
}

// readConfigFile reads the YAML config file. A missing file is no error;
// an unknown key is.
func readConfigFile(s *Settings, path string) error {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	defer file.Close()
	dec := yaml.NewDecoder(file)
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

func (s Settings) validate() error {
	var errs []error
	if s.Output != "text" && s.Output != "json" {
		errs = append(errs, fmt.Errorf("output must be text or json, got %q", s.Output))
	}
	if s.Progress != "auto" && s.Progress != "always" && s.Progress != "never" {
		errs = append(errs, fmt.Errorf("progress must be auto, always or never, got %q", s.Progress))
	}
	if s.CredentialsStore != "auto" && s.CredentialsStore != "keyring" && s.CredentialsStore != "file" {
		errs = append(errs, fmt.Errorf("credentials_store must be auto, keyring or file, got %q", s.CredentialsStore))
	}
	if s.ChunkSizeMiB < 1 || s.ChunkSizeMiB > 4096 {
		errs = append(errs, fmt.Errorf("chunk_size_mib must be from 1 to 4096, got %d", s.ChunkSizeMiB))
	}
	if s.Parallel < 1 || s.Parallel > 64 {
		errs = append(errs, fmt.Errorf("parallel must be from 1 to 64, got %d", s.Parallel))
	}
	if s.DownloadParts < 1 || s.DownloadParts > 64 {
		errs = append(errs, fmt.Errorf("download_parts must be from 1 to 64, got %d", s.DownloadParts))
	}
	if s.Retries < 1 || s.Retries > 20 {
		errs = append(errs, fmt.Errorf("retries must be from 1 to 20, got %d", s.Retries))
	}
	if err := errors.Join(errs...); err != nil {
		return usageError{err}
	}
	return nil
}

// defaultConfigPath returns $XDG_CONFIG_HOME/coffer/config.yaml, or
// ~/.config/coffer/config.yaml.
func defaultConfigPath(getenv func(string) string) string {
	base := getenv("XDG_CONFIG_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "coffer", "config.yaml")
}

func defaultStateDir(getenv func(string) string) string {
	base := getenv("XDG_STATE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "coffer")
}
