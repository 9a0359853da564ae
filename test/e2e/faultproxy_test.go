package e2e

import (
	"fmt"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// faultProxy is a TCP proxy inside the test process that sits between cofferd and its S3
// backend and injects faults on demand: latency, stalled connections, connection resets and a
// full outage. It is a Toxiproxy proxy used as a library, without its HTTP API.
type faultProxy struct {
	t     *testing.T
	proxy *toxiproxy.Proxy
}

// startFaultProxy starts a proxy on a free loopback port that forwards to upstream
// ("host:port") and stops it when the test ends.
func startFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	proxy := toxiproxy.NewProxy(server, "s3-backend", "127.0.0.1:0", upstream)
	if err := proxy.Start(); err != nil {
		t.Fatalf("start fault proxy to %s: %v", upstream, err)
	}
	t.Cleanup(proxy.Stop)
	return &faultProxy{t: t, proxy: proxy}
}

// addr returns the proxy's listening address, "127.0.0.1:port". It stays the same across
// an outage.
func (p *faultProxy) addr() string { return p.proxy.Listen }

// addToxic adds a Toxiproxy toxic of kind on stream ("upstream" is cofferd to the backend,
// "downstream" the answers) for every connection, with the JSON attributes.
func (p *faultProxy) addToxic(name, kind, stream, attributes string) {
	p.t.Helper()
	spec := fmt.Sprintf(`{"name":%q,"type":%q,"stream":%q,"toxicity":1,"attributes":%s}`, name, kind, stream, attributes)
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
		p.t.Fatalf("add %s toxic %q: %v", kind, name, err)
	}
}

// latency delays every answer of the backend by ms milliseconds, give or take jitterMS.
func (p *faultProxy) latency(ms, jitterMS int) {
	p.addToxic("latency", "latency", "downstream", fmt.Sprintf(`{"latency":%d,"jitter":%d}`, ms, jitterMS))
}

// stall makes the backend go silent: the proxy accepts connections and data and never
// answers, as a hung store or a black-holed network does.
func (p *faultProxy) stall() {
	p.addToxic("stall", "timeout", "upstream", `{"timeout":0}`)
}

// resets resets a share of the connections (0 to 1) with a TCP RST as soon as cofferd sends
// on them, so requests break in flight.
func (p *faultProxy) resets(share float64) {
	p.t.Helper()
	spec := fmt.Sprintf(`{"name":"reset","type":"reset_peer","stream":"upstream","toxicity":%g,"attributes":{"timeout":0}}`, share)
	if _, err := p.proxy.Toxics.AddToxicJson(strings.NewReader(spec)); err != nil {
		p.t.Fatalf("add reset_peer toxic: %v", err)
	}
}

// heal removes every toxic.
func (p *faultProxy) heal() {
	p.proxy.Toxics.ResetToxics(p.t.Context())
}

// cut takes the backend away: open connections are closed and new ones are refused.
func (p *faultProxy) cut() { p.proxy.Stop() }

// restore accepts connections again on the same address.
func (p *faultProxy) restore() {
	p.t.Helper()
	if err := p.proxy.Start(); err != nil {
		p.t.Fatalf("restart fault proxy on %s: %v", p.proxy.Listen, err)
	}
}

// startCofferOnS3 starts cofferd with the s3 storage driver on the bucket of backend, reached
// through endpoint (the backend's own or a proxy's), with extra COFFER_* settings in env.
func startCofferOnS3(t *testing.T, backend s3Backend, endpoint string, env ...string) *server {
	t.Helper()
	return startCofferWith(t, t.TempDir(), "", nil, append(s3StorageEnv(backend, endpoint), env...)...)
}

// s3StorageEnv returns the settings of the s3 storage driver on the bucket of backend,
// reached through endpoint.
func s3StorageEnv(backend s3Backend, endpoint string) []string {
	return []string{
		"COFFER_STORAGE_DRIVER=s3",
		"COFFER_STORAGE_S3_ENDPOINT=" + endpoint,
		"COFFER_STORAGE_S3_BUCKET=" + backend.bucket,
		"COFFER_STORAGE_S3_PATH_STYLE=true",
		"COFFER_STORAGE_S3_ACCESS_KEY=" + backend.accessKey,
		"COFFER_STORAGE_S3_SECRET_KEY=" + backend.secretKey,
	}
}
