// Command cofferd is the Coffer server: an OCI registry and an
// S3-compatible object store over one content-addressed blob store.
//
// With flags only, cofferd runs the server. Two subcommands run
// maintenance over the same configuration, also while the server runs:
//
//	cofferd gc [--dry-run] [flags]   collect garbage once
//	cofferd scrub [flags]            re-hash every blob and quarantine corrupt content
//
// A third copies a deployment into another, for example from a single node
// to a scaled-out one:
//
//	cofferd migrate --from FILE --to FILE
//
// And one checks an audit log:
//
//	cofferd audit verify FILE...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/telemetry"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "gc":
			return runGC(args[1:])
		case "scrub":
			return runScrub(args[1:])
		case "migrate":
			return runMigrate(args[1:], os.Stdout, os.Stderr)
		case "audit":
			return runAudit(args[1:], os.Stdout, os.Stderr)
		}
	}

	var flags config.Flags
	fs, showVersion := serverFlagSet(&flags)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Println(server.Version)
		return 0
	}

	cfg, unknownEnv, err := config.Load(flags, os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, "cofferd:", err)
		return 2
	}
	logger := telemetry.NewLogger(os.Stderr, cfg.Log.Format, cfg.Log.Level)
	for _, name := range unknownEnv {
		logger.Warn("environment variable matches no configuration key", "variable", name)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := server.Run(ctx, cfg, logger, os.Stdout); err != nil {
		logger.Error("cofferd failed", "error", err)
		return 1
	}
	return 0
}

// serverFlagSet returns the flags of the server command, which fill flags,
// and the --version flag.
func serverFlagSet(flags *config.Flags) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("cofferd", flag.ContinueOnError)
	flags.Register(fs)
	return fs, fs.Bool("version", false, "print the version and exit")
}
