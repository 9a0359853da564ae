package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/server"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Exit codes of the maintenance commands.
const (
	exitOK         = 0
	exitFound      = 1 // scrub found damage, gc failed on some candidates, or the run failed
	exitUsageError = 2 // invalid flags or configuration
)

// maintenance is a subcommand that works on the stores of a configuration.
type maintenance struct {
	name  string
	usage string
	flags config.Flags
	fs    *flag.FlagSet
}

// newMaintenance returns a subcommand whose flag set has the server's
// configuration flags.
func newMaintenance(name, usage string) *maintenance {
	m := &maintenance{name: name, usage: usage, fs: flag.NewFlagSet("cofferd "+name, flag.ContinueOnError)}
	m.flags.Register(m.fs)
	m.fs.Usage = func() {
		_, _ = fmt.Fprintf(m.fs.Output(), "usage: cofferd %s [flags]\n\n%s\n\nflags:\n", name, usage)
		m.fs.PrintDefaults()
	}
	return m
}

// load parses args and loads the configuration as the server does. When
// the command ends there, after --help or on an error, done is true and code
// is the exit code.
func (m *maintenance) load(args []string) (cfg config.Config, logger *slog.Logger, code int, done bool) {
	if err := m.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, nil, exitOK, true
		}
		return cfg, nil, exitUsageError, true
	}
	if m.fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "cofferd %s: unexpected argument %q\n", m.name, m.fs.Arg(0))
		return cfg, nil, exitUsageError, true
	}
	cfg, unknownEnv, err := config.Load(m.flags, os.Environ())
	if err != nil {
		fmt.Fprintf(os.Stderr, "cofferd %s: %v\n", m.name, err)
		return cfg, nil, exitUsageError, true
	}
	logger = telemetry.NewLogger(os.Stderr, cfg.Log.Format, cfg.Log.Level)
	for _, name := range unknownEnv {
		logger.Warn("environment variable matches no configuration key", "variable", name)
	}
	return cfg, logger, exitOK, false
}

// runGC implements "cofferd gc".
func runGC(args []string) int {
	m := newMaintenance("gc", "Run garbage collection once over the storage and metadata of the configuration,\n"+
		"with the gc settings of the configuration. It is safe while the server runs.")
	dryRun := m.fs.Bool("dry-run", false, "report what would be removed and the bytes it frees, and change nothing")
	cfg, logger, code, done := m.load(args)
	if done {
		return code
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := server.CollectGarbage(ctx, cfg, logger, *dryRun)
	if report != nil {
		fmt.Print(formatReport(report))
	}
	if err != nil {
		logger.Error("garbage collection failed", "error", err)
		return exitFound
	}
	if report.Failures > 0 {
		return exitFound
	}
	return exitOK
}

// runScrub implements "cofferd scrub".
func runScrub(args []string) int {
	m := newMaintenance("scrub", "Re-hash every stored blob, report content that does not match its digest and move\n"+
		"it to quarantine. Exits with 1 when it finds corrupt or missing content. It is safe while\n"+
		"the server runs.")
	cfg, logger, code, done := m.load(args)
	if done {
		return code
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := server.Scrub(ctx, cfg, logger)
	if report != nil {
		fmt.Print(formatScrubReport(report))
	}
	if err != nil {
		logger.Error("integrity scrub failed", "error", err)
		return exitFound
	}
	if report.Damaged() || report.Failures > 0 {
		return exitFound
	}
	return exitOK
}

// formatReport returns one line per removed thing and a summary.
func formatReport(r *gc.Report) string {
	var w strings.Builder
	verb := func(done, would string) string {
		if r.DryRun {
			return would
		}
		return done
	}
	for _, item := range r.DeletedBlobs {
		fmt.Fprintf(&w, "%s blob %s (%d bytes)\n", verb("deleted", "would delete"), item.Name, item.Bytes)
	}
	for _, d := range r.UnlinkedBlobs {
		fmt.Fprintf(&w, "%s blob %s from its repositories; a run after the grace period deletes it\n", verb("unlinked", "would unlink"), d)
	}
	for _, item := range r.OrphanKeys {
		fmt.Fprintf(&w, "%s orphan storage key %s (%d bytes)\n", verb("deleted", "would delete"), item.Name, item.Bytes)
	}
	for _, item := range r.ExpiredUploads {
		fmt.Fprintf(&w, "%s expired upload session %s (%d bytes)\n", verb("cancelled", "would cancel"), item.Name, item.Bytes)
	}
	for _, item := range r.ExpiredMultipart {
		fmt.Fprintf(&w, "%s expired multipart upload %s (%d bytes)\n", verb("aborted", "would abort"), item.Name, item.Bytes)
	}
	for _, m := range r.DeletedManifests {
		fmt.Fprintf(&w, "%s manifest %s@%s (%s)\n", verb("deleted", "would delete"), m.Repository, m.Digest, m.Reason)
	}
	fmt.Fprintf(&w, "%s %d bytes: %d blobs deleted, %d unlinked, %d orphan keys, %d upload sessions, %d multipart uploads, %d manifests; %d skipped, %d failed\n",
		verb("freed", "would free"), r.FreedBytes(), len(r.DeletedBlobs), len(r.UnlinkedBlobs), len(r.OrphanKeys),
		len(r.ExpiredUploads), len(r.ExpiredMultipart), len(r.DeletedManifests), r.Skipped, r.Failures)
	if r.DryRun {
		fmt.Fprintln(&w, "dry run: nothing was changed")
	}
	return w.String()
}

// formatScrubReport returns one line per damaged blob and a summary.
func formatScrubReport(r *gc.ScrubReport) string {
	var w strings.Builder
	for _, c := range r.Corrupt {
		where := "moving it to quarantine failed"
		if c.QuarantineKey != "" {
			where = "moved to " + c.QuarantineKey
		}
		fmt.Fprintf(&w, "corrupt blob %s: expected %d bytes with that digest, found %d bytes hashing to %s; %s\n",
			c.Digest, c.Size, c.ActualSize, c.Actual, where)
	}
	for _, m := range r.Missing {
		note := ""
		if m.Quarantined {
			note = " (quarantined by an earlier scrub; push the blob again to repair it)"
		}
		fmt.Fprintf(&w, "missing blob %s: recorded, but its content is not stored%s\n", m.Digest, note)
	}
	fmt.Fprintf(&w, "checked %d blobs, %d bytes: %d corrupt, %d missing, %d failed\n",
		r.Blobs, r.Bytes, len(r.Corrupt), len(r.Missing), r.Failures)
	return w.String()
}
