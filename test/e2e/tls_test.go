package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// serverTLS names the PEM files that start cofferd with HTTPS.
type serverTLS struct {
	caPath   string // certificate of the throwaway CA that signed certPath
	certPath string // server certificate for 127.0.0.1 and localhost
	keyPath  string // private key of certPath
}

// startCofferTLS starts cofferd with HTTPS on the OCI and S3 listeners, using a server
// certificate from a CA created for this test only. It returns the server and the path of
// the CA certificate, which clients must trust.
func startCofferTLS(t *testing.T) (*server, string) {
	t.Helper()
	files := writeTestCertificates(t, t.TempDir())
	srv := startCofferWith(t, t.TempDir(), "", files)
	return srv, files.caPath
}

// writeTestCertificates creates a CA and a server certificate for 127.0.0.1, ::1 and
// localhost in dir. Both are valid from an hour ago for a day, so a clock that is a little
// off does not matter.
func writeTestCertificates(t *testing.T, dir string) *serverTLS {
	t.Helper()
	notBefore := time.Now().Add(-time.Hour)
	notAfter := notBefore.Add(24 * time.Hour)

	caKey := newECDSAKey(t)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "coffer e2e test CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("create test CA certificate: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("parse test CA certificate: %v", err)
	}

	serverKey := newECDSAKey(t)
	serverTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, caCert, &serverKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("create test server certificate: %v", err)
	}
	serverKeyDER, err := x509.MarshalPKCS8PrivateKey(serverKey)
	if err != nil {
		t.Fatalf("encode test server key: %v", err)
	}

	files := &serverTLS{
		caPath:   filepath.Join(dir, "ca.pem"),
		certPath: filepath.Join(dir, "server.pem"),
		keyPath:  filepath.Join(dir, "server-key.pem"),
	}
	writePEM(t, files.caPath, "CERTIFICATE", caDER)
	writePEM(t, files.certPath, "CERTIFICATE", serverDER)
	writePEM(t, files.keyPath, "PRIVATE KEY", serverKeyDER)
	return files
}

func newECDSAKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate ECDSA key: %v", err)
	}
	return key
}

func writePEM(t *testing.T, path, blockType string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// scheme returns "https" for a server started by startCofferTLS and "http" otherwise.
func (s *server) scheme() string {
	if s.caPath != "" {
		return "https"
	}
	return "http"
}

// s3Endpoint returns the URL of the S3 API, such as "https://127.0.0.1:40123".
func (s *server) s3Endpoint() string {
	return s.scheme() + "://" + s.s3addr
}

// httpClient returns a client that trusts the server's test CA when the server uses HTTPS.
func (s *server) httpClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	if s.caPath != "" {
		transport.TLSClientConfig = &tls.Config{RootCAs: s.certPool(t), MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: timeout, Transport: transport}
}

// certPool returns a pool that contains only the server's test CA.
func (s *server) certPool(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readFile(t, s.caPath)) {
		t.Fatalf("no certificate found in %s", s.caPath)
	}
	return pool
}
