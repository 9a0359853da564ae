// Command loadgen is the load generator of the side-by-side registry
// benchmark that test/bench/run.sh drives. It speaks the OCI Distribution
// API with its own small client. Only the mixed mode, which also sends S3
// requests, uses a library beyond the standard one: the AWS SDK's SigV4
// signer.
//
// Usage:
//
//	loadgen run -url http://127.0.0.1:PORT -pid PID -server NAME -out FILE [flags]
//	loadgen table REPORT.json [REPORT.json]
//	loadgen mixed -url http://127.0.0.1:PORT -s3-url http://127.0.0.1:PORT [-clients 50] [-duration 60s]
//	loadgen freeport
//
// "run" waits for the registry, runs every workload against it and writes a
// JSON report, reading the server's CPU time and peak RSS from /proc/PID.
// Set LOADGEN_USERNAME and LOADGEN_PASSWORD to send HTTP Basic credentials.
// "mixed" sends OCI and S3 requests from concurrent clients for a fixed
// time and prints the latency percentiles of each kind of request.
// "table" prints reports as a Markdown table. "freeport" prints a free TCP
// port on 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"
)

// config holds the sizes and counts of the workloads.
type config struct {
	bigSize    int64
	chunkSize  int64
	smallCount int
	smallSize  int64
	pullRounds int
	clients    int
	requests   int
}

// bench is what every workload needs: the client, the probe on the server
// process and the configuration.
type bench struct {
	client *registryClient
	probe  serverProbe
	cfg    config
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen run|mixed|table|freeport [flags]")
		os.Exit(2)
	}

	var err error
	switch os.Args[1] {
	case "run":
		err = runCommand(os.Args[2:])
	case "mixed":
		err = mixedCommand(os.Args[2:])
	case "table":
		err = tableCommand(os.Args[2:])
	case "freeport":
		err = freePortCommand()
	default:
		err = fmt.Errorf("unknown command %q: expected run, mixed, table or freeport", os.Args[1])
	}
	if err != nil {
		slog.Error("loadgen failed", "err", err)
		os.Exit(1)
	}
}

func runCommand(args []string) error {
	flags := flag.NewFlagSet("run", flag.ExitOnError)
	baseURL := flags.String("url", "", "registry base URL, such as http://127.0.0.1:5000")
	pid := flags.Int("pid", 0, "process ID of the registry server, for CPU time and peak RSS")
	server := flags.String("server", "", "server name for the report's column header")
	out := flags.String("out", "", "path of the JSON report to write")
	timeout := flags.Duration("timeout", 30*time.Minute, "limit for the whole run")
	readyTimeout := flags.Duration("ready-timeout", time.Minute, "how long to wait for GET /v2/ to return 200")
	database := flags.String("postgres-database", "", "PostgreSQL database of the server's metadata on this machine, to measure the CPU time of its backends too")
	var cfg config
	flags.Int64Var(&cfg.bigSize, "big-size", 1<<30, "size in bytes of the large layer of workload (a) and of the chunked push")
	flags.Int64Var(&cfg.chunkSize, "chunk-size", 64<<20, "PATCH size in bytes for the chunked push")
	flags.IntVar(&cfg.smallCount, "small-count", 100, "number of small layers in workload (b)")
	flags.Int64Var(&cfg.smallSize, "small-size", 1<<20, "size in bytes of each small layer")
	flags.IntVar(&cfg.pullRounds, "pull-rounds", 10, "how many times workload (b) pulls every small layer")
	flags.IntVar(&cfg.clients, "clients", 64, "concurrent clients in workloads (b), (c) and (d)")
	flags.IntVar(&cfg.requests, "requests", 50000, "requests in each of workloads (c) and (d)")
	_ = flags.Parse(args)

	if *baseURL == "" || *pid <= 0 || *server == "" || *out == "" {
		return errors.New("run needs -url, -pid, -server and -out")
	}
	if cfg.bigSize <= 0 || cfg.chunkSize <= 0 || cfg.smallCount <= 0 || cfg.smallSize <= 0 ||
		cfg.pullRounds <= 0 || cfg.clients <= 0 || cfg.requests <= 0 {
		return errors.New("every size and count flag must be positive")
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	client, err := newRegistryClient(*baseURL, os.Getenv("LOADGEN_USERNAME"), os.Getenv("LOADGEN_PASSWORD"), cfg.clients)
	if err != nil {
		return err
	}
	defer client.close()
	if err := waitReady(ctx, client, *readyTimeout); err != nil {
		return err
	}

	b := &bench{client: client, probe: serverProbe{pid: *pid, database: *database}, cfg: cfg}
	rep, err := runWorkloads(ctx, b)
	if err != nil {
		return fmt.Errorf("benchmark %s at %s: %w", *server, *baseURL, err)
	}
	rep.Server = *server
	return writeReport(*out, rep)
}

// waitReady polls GET /v2/ until it returns 200 or limit passes.
func waitReady(ctx context.Context, client *registryClient, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		err := client.ping(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry not ready after %s: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// runWorkloads runs workloads (a) to (d) in order and reads the peak RSS at the end.
func runWorkloads(ctx context.Context, b *bench) (report, error) {
	var rep report
	record := func(results ...result) {
		for _, r := range results {
			slog.Info("workload finished", "workload", r.Workload, "seconds", r.Seconds, "server_cpu_seconds", r.CPUSeconds)
		}
		rep.Results = append(rep.Results, results...)
	}

	big, err := runBigLayer(ctx, b)
	if err != nil {
		return rep, err
	}
	record(big...)

	chunked, err := runChunkedLayer(ctx, b)
	if err != nil {
		return rep, err
	}
	record(chunked...)

	small, digests, err := runSmallLayers(ctx, b)
	if err != nil {
		return rep, err
	}
	record(small...)

	heads, err := runBlobHeads(ctx, b, smallLayersRepo, digests)
	if err != nil {
		return rep, err
	}
	record(heads)

	gets, err := runManifestGets(ctx, b, smallLayersRepo, digests)
	if err != nil {
		return rep, err
	}
	record(gets)

	rep.PeakRSSBytes, err = b.probe.peakRSS()
	return rep, err
}

func tableCommand(paths []string) error {
	if len(paths) == 0 {
		return errors.New("table needs one or more report files")
	}
	var reports []report
	for _, path := range paths {
		r, err := readReport(path)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	return printTable(os.Stdout, reports)
}

// freePortCommand prints a TCP port that was free on 127.0.0.1 a moment ago.
func freePortCommand() error {
	var config net.ListenConfig
	listener, err := config.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("find a free port: %w", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	if err := listener.Close(); err != nil {
		return fmt.Errorf("release port %d: %w", port, err)
	}
	fmt.Println(port)
	return nil
}
