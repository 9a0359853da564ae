// Command miniocap records the requests minio-go sends for PutObject over
// plain http, with and without a trailing checksum, as JSON golden cases.
// It needs github.com/minio/minio-go/v7 in go.mod. Run from the repository
// root:
//
//	go run ./internal/httpapi/s3/sigv4/testdata/miniocap > internal/httpapi/s3/sigv4/testdata/minio-go.json
//
// The server is an httptest server on 127.0.0.1 that records each request
// and returns 200.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

type captured struct {
	Name    string            `json:"name"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

func main() {
	var cases []captured
	var name string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h := map[string]string{}
		for k, v := range r.Header {
			if k == "User-Agent" {
				continue
			}
			h[k] = strings.Join(v, ",")
		}
		cases = append(cases, captured{Name: name, Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(), Headers: h, Body: base64.StdEncoding.EncodeToString(body)})
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
	}))
	defer srv.Close()

	client, err := minio.New(strings.TrimPrefix(srv.URL, "http://"), &minio.Options{
		Creds:           credentials.NewStaticV4("AKIDCOFFEREXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
		Secure:          false,
		Region:          "us-east-1",
		TrailingHeaders: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	data := make([]byte, 70000)
	for i := range data {
		data[i] = byte(i % 251)
	}
	ctx := context.Background()
	name = "minio-go signed chunks"
	if _, err := client.PutObject(ctx, "bucket", "dir/obj.bin", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		log.Fatal(err)
	}
	name = "minio-go signed chunks with signed crc32c trailer"
	if _, err := client.PutObject(ctx, "bucket", "dir/obj.bin", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{Checksum: minio.ChecksumCRC32C}); err != nil {
		log.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.Encode(map[string]any{"generator": "minio-go v7.4.1", "cases": cases})
}
