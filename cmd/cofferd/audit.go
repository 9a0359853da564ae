package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/cofferhq/coffer/internal/audit"
)

const auditUsage = `usage: cofferd audit verify FILE...

Check the hash chain of an audit log: every line must carry the hash of its
own content, the next sequence number and the hash of the line before it.
Give rotated files oldest first (audit.log.<time> files, then audit.log) to
check them as one chain. The first line that breaks the chain is reported
as FILE:LINE with the reason: an edited line, a missing event, or an event
out of order.

Exit codes: 0 the chain holds, 1 it is broken, 2 invalid arguments or a
file that cannot be read.
`

// runAudit implements "cofferd audit".
func runAudit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cofferd audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { _, _ = io.WriteString(fs.Output(), auditUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsageError
	}

	if fs.NArg() < 2 || fs.Arg(0) != "verify" {
		fs.Usage()
		return exitUsageError
	}

	summary, err := audit.VerifyFiles(fs.Args()[1:]...)
	var chainErr *audit.ChainError
	switch {
	case errors.As(err, &chainErr):
		fmt.Fprintf(stderr, "cofferd audit verify: chain broken at %v\n", err)
		fmt.Fprintf(stdout, "%d events verified before the break\n", summary.Events)
		return exitFound
	case err != nil:
		fmt.Fprintf(stderr, "cofferd audit verify: %v\n", err)
		return exitUsageError
	}

	if summary.Events == 0 {
		fmt.Fprintln(stdout, "ok: no events")
		return exitOK
	}
	fmt.Fprintf(stdout, "ok: %d events, seq %d to %d, last hash %s\n", summary.Events, summary.FirstSeq, summary.LastSeq, summary.LastHash)
	if !summary.Anchored {
		fmt.Fprintf(stdout, "the chain starts at seq %d: the file with the earlier events was not given, so the link to it is unchecked\n", summary.FirstSeq)
	}
	return exitOK
}
