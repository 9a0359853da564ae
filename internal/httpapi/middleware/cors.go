package middleware

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CORSOptions configure cross-origin access for browser clients.
type CORSOptions struct {
	// AllowedOrigins lists the origins allowed, such as
	// "https://ci.example.com"; "*" allows any. Empty disables CORS.
	AllowedOrigins []string
	// MaxAge is how long a browser may cache a preflight response.
	MaxAge time.Duration
}

// corsExposedHeaders are the response headers browser code may read.
var corsExposedHeaders = strings.Join([]string{
	"ETag", "Location", "Content-Range", "Content-Length", "Last-Modified",
	"X-Request-Id", "X-Amz-Request-Id", "X-Amz-Version-Id", "X-Amz-Checksum-Crc32", "X-Amz-Checksum-Crc32c",
	"X-Amz-Checksum-Crc64nvme", "X-Amz-Checksum-Sha1", "X-Amz-Checksum-Sha256", "X-Amz-Checksum-Type",
	"Upload-Offset", "Coffer-Digest", "Docker-Content-Digest", "Docker-Upload-UUID", "Range", "Link", "Retry-After",
}, ", ")

const corsAllowedMethods = "GET, HEAD, PUT, POST, PATCH, DELETE"

// CORS responds to preflight requests from allowed origins and adds the CORS
// headers to their other requests. Preflights carry no credentials, so
// CORS sits outside authentication.
func CORS(opts CORSOptions, next http.Handler) http.Handler {
	if len(opts.AllowedOrigins) == 0 {
		return next
	}
	anyOrigin := slices.Contains(opts.AllowedOrigins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !anyOrigin && !slices.Contains(opts.AllowedOrigins, origin) {
			next.ServeHTTP(w, r)
			return
		}
		header := w.Header()
		header.Add("Vary", "Origin")
		header.Set("Access-Control-Allow-Origin", origin)
		header.Set("Access-Control-Allow-Credentials", "true")
		header.Set("Access-Control-Expose-Headers", corsExposedHeaders)

		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			header.Set("Access-Control-Allow-Methods", corsAllowedMethods)
			if requested := r.Header.Get("Access-Control-Request-Headers"); requested != "" {
				header.Set("Access-Control-Allow-Headers", requested)
			}
			if opts.MaxAge > 0 {
				header.Set("Access-Control-Max-Age", strconv.Itoa(int(opts.MaxAge.Seconds())))
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
