// Command s3load is the load generator of the side-by-side S3 benchmark that
// test/bench/run-s3.sh drives. It uses aws-sdk-go-v2 with static credentials,
// path-style requests and checksums only where an operation requires them.
//
// Usage:
//
//	s3load run -endpoint http://127.0.0.1:PORT -pid PID -server NAME -out FILE [flags]
//	s3load table REPORT.json [REPORT.json]
//	s3load freeport
//
// "run" waits for the server, runs every workload against it and writes a
// JSON report, reading the server's CPU time and peak RSS from /proc/PID.
// The credentials come from S3LOAD_ACCESS_KEY and S3LOAD_SECRET_KEY.
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
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// config holds the sizes and counts of the workloads.
type config struct {
	bigSize         int64
	partSize        int64
	partConcurrency int
	smallSize       int
	smallCount      int
	clients         int
	listSmallKeys   int
	listLargeKeys   int
	fillClients     int
	listPage        int
	listCalls       int
	// workloads names the workloads to run, out of workloadNames.
	workloads []string
}

// workloadNames are the names the -workloads flag accepts, in the order they run.
var workloadNames = []string{"large", "blob", "small", "listing"}

// bench is what every workload needs: the client, the probe on the server
// process and the configuration.
type bench struct {
	client *s3.Client
	// http is the HTTP client under client; workload (d) also uses it for
	// the OCI API at oci, which is nil without -oci-endpoint.
	http  *http.Client
	oci   *ociTarget
	probe serverProbe
	cfg   config
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: s3load run|table|freeport [flags]")
		os.Exit(2)
	}

	var err error
	switch os.Args[1] {
	case "run":
		err = runCommand(os.Args[2:])
	case "table":
		err = tableCommand(os.Args[2:])
	case "freeport":
		err = freePortCommand()
	default:
		err = fmt.Errorf("unknown command %q: expected run, table or freeport", os.Args[1])
	}
	if err != nil {
		slog.Error("s3load failed", "err", err)
		os.Exit(1)
	}
}

func runCommand(args []string) error {
	flags := flag.NewFlagSet("run", flag.ExitOnError)
	endpoint := flags.String("endpoint", "", "S3 endpoint URL, such as http://127.0.0.1:9000")
	pid := flags.Int("pid", 0, "process ID of the S3 server, for CPU time and peak RSS")
	server := flags.String("server", "", "server name for the report's column header")
	out := flags.String("out", "", "path of the JSON report to write")
	timeout := flags.Duration("timeout", 3*time.Hour, "limit for the whole run")
	readyTimeout := flags.Duration("ready-timeout", time.Minute, "how long to wait for ListBuckets to succeed")
	var cfg config
	flags.Int64Var(&cfg.bigSize, "big-size", 1<<30, "size in bytes of each large object of workload (b)")
	flags.Int64Var(&cfg.partSize, "part-size", 64<<20, "part size in bytes of the multipart upload")
	flags.IntVar(&cfg.partConcurrency, "part-concurrency", 4, "parts the multipart upload sends at a time")
	flags.IntVar(&cfg.smallSize, "small-size", 4<<10, "size in bytes of each small object of workload (a)")
	flags.IntVar(&cfg.smallCount, "small-count", 20000, "number of small objects, and of PUT and of GET requests, in workload (a)")
	flags.IntVar(&cfg.clients, "clients", 16, "concurrent clients in workload (a)")
	flags.IntVar(&cfg.listSmallKeys, "list-small-keys", 1000, "objects in the small bucket of workload (c)")
	flags.IntVar(&cfg.listLargeKeys, "list-large-keys", 1000000, "objects in the large bucket of workload (c)")
	flags.IntVar(&cfg.fillClients, "fill-clients", 64, "concurrent clients that fill the buckets of workload (c)")
	flags.IntVar(&cfg.listPage, "list-page", 1000, "max-keys of each ListObjectsV2 request in workload (c)")
	flags.IntVar(&cfg.listCalls, "list-calls", 200, "ListObjectsV2 requests per bucket in workload (c)")
	ociEndpoint := flags.String("oci-endpoint", "", "OCI API URL of the same server, such as http://127.0.0.1:5000; workload (d) uses it when set")
	workloads := flags.String("workloads", strings.Join(workloadNames, ","),
		"comma-separated workloads to run: large (b), blob (d), small (a), listing (c)")
	_ = flags.Parse(args)

	if *endpoint == "" || *pid <= 0 || *server == "" || *out == "" {
		return errors.New("run needs -endpoint, -pid, -server and -out")
	}
	cfg.workloads = strings.Split(*workloads, ",")
	if err := cfg.validate(); err != nil {
		return err
	}
	accessKey, secretKey := os.Getenv("S3LOAD_ACCESS_KEY"), os.Getenv("S3LOAD_SECRET_KEY")
	if accessKey == "" || secretKey == "" {
		return errors.New("run needs S3LOAD_ACCESS_KEY and S3LOAD_SECRET_KEY in the environment")
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	client, httpClient := newS3Client(*endpoint, accessKey, secretKey, max(cfg.clients, cfg.fillClients, cfg.partConcurrency))
	defer httpClient.CloseIdleConnections()
	if err := waitReady(ctx, client, *readyTimeout); err != nil {
		return err
	}

	b := &bench{client: client, http: httpClient, probe: serverProbe{pid: *pid}, cfg: cfg}
	if *ociEndpoint != "" {
		base, err := url.Parse(*ociEndpoint)
		if err != nil {
			return fmt.Errorf("parse -oci-endpoint %q: %w", *ociEndpoint, err)
		}
		b.oci = &ociTarget{base: base, username: accessKey, password: secretKey}
	}
	rep, err := runWorkloads(ctx, b)
	if err != nil {
		return fmt.Errorf("benchmark %s at %s: %w", *server, *endpoint, err)
	}
	rep.Server = *server
	return writeReport(*out, rep)
}

// validate checks that every size and count is usable.
func (c config) validate() error {
	if c.bigSize <= 0 || c.partSize <= 0 || c.partConcurrency <= 0 || c.smallSize <= 0 || c.smallCount <= 0 ||
		c.clients <= 0 || c.fillClients <= 0 || c.listPage <= 0 || c.listCalls <= 0 {
		return errors.New("every size and count flag must be positive")
	}
	// S3 allows at most 1,000 keys per ListObjectsV2 response.
	if c.listPage > 1000 {
		return fmt.Errorf("-list-page %d is more than the 1000 keys S3 returns per page", c.listPage)
	}
	for _, name := range c.workloads {
		if !slices.Contains(workloadNames, name) {
			return fmt.Errorf("unknown workload %q in -workloads: expected some of %s", name, strings.Join(workloadNames, ", "))
		}
	}
	if slices.Contains(c.workloads, "listing") && (c.listSmallKeys < c.listPage || c.listLargeKeys < c.listPage) {
		return fmt.Errorf("-list-small-keys and -list-large-keys must be at least -list-page (%d)", c.listPage)
	}
	return nil
}

// runWorkloads runs the chosen workloads in the order (b), (d), (a), (c).
// The large objects go first, as in the OCI benchmark, and the listing
// last because its large bucket takes longest to fill.
func runWorkloads(ctx context.Context, b *bench) (report, error) {
	steps := map[string]func(context.Context, *bench) ([]result, error){
		"large":   runBigObjects,
		"blob":    runBlob,
		"small":   runSmallObjects,
		"listing": runListings,
	}
	var rep report
	for _, name := range workloadNames {
		if !slices.Contains(b.cfg.workloads, name) {
			continue
		}
		results, err := steps[name](ctx, b)
		if err != nil {
			return rep, err
		}
		for _, r := range results {
			slog.Info("workload finished", "workload", r.Workload, "seconds", r.Seconds,
				"server_cpu_seconds", r.CPUSeconds, "server_peak_rss_bytes", r.PeakRSSBytes)
		}
		rep.Results = append(rep.Results, results...)
	}
	return rep, nil
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
