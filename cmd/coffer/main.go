// Command coffer is the command-line client of Coffer: it copies files to
// and from buckets, pushes and pulls files as OCI artifacts and manages
// webhooks. docs/cli has the reference of every command.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cofferhq/coffer/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cli.NewRootCommand(cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coffer:", err)
		if hint := cli.ErrorHint(err); hint != "" {
			fmt.Fprintln(os.Stderr, "coffer:", hint)
		}
	}
	os.Exit(cli.ExitCode(err))
}
