package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/ranges"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Objects is the part of the objects domain that the native object API uses.
type Objects interface {
	CreateBucket(ctx context.Context, name, region string) error
	Buckets(ctx context.Context) ([]metadata.Bucket, error)
	DeleteBucket(ctx context.Context, name string) error
	DeleteBucketRecursive(ctx context.Context, name string) error
	Usage(ctx context.Context, bucket string) (metadata.BucketUsage, error)
	PutObject(ctx context.Context, in objects.PutInput) (*metadata.Object, error)
	Object(ctx context.Context, bucket, key string) (*metadata.Object, error)
	Open(ctx context.Context, o *metadata.Object, start, length int64) (io.ReadCloser, error)
	DeleteObject(ctx context.Context, bucket, key string) error
	RedirectURL(ctx context.Context, o *metadata.Object) (string, error)
	ListObjects(ctx context.Context, in objects.ListInput) (objects.ListResult, error)
	StartSession(ctx context.Context, bucket, key string) (objects.Session, error)
	Session(ctx context.Context, id string) (objects.Session, error)
	SessionStatus(ctx context.Context, id string) (objects.Session, error)
	AppendSession(ctx context.Context, id string, offset int64, body io.Reader, declared int64) (objects.Session, error)
	CompleteSession(ctx context.Context, id string, expected digest.Digest, attrs objects.Attributes) (*metadata.Object, error)
	CancelSession(ctx context.Context, id string) error
}

// Headers of the native object API.
const (
	// ExpectedDigestHeader carries the sha256 digest a PUT body must have.
	ExpectedDigestHeader = "Coffer-Expected-Digest"
	// UploadOffsetHeader reports how many bytes an upload session holds.
	UploadOffsetHeader = "Upload-Offset"
)

// objectErrors maps domain errors to HTTP statuses for problem details.
var objectErrors = []struct {
	err    error
	status int
}{
	{objects.ErrBucketInvalid, http.StatusBadRequest},
	{stream.ErrRequestBody, http.StatusBadRequest},
	{objects.ErrKeyInvalid, http.StatusBadRequest},
	{objects.ErrKeyTooLong, http.StatusBadRequest},
	{objects.ErrInvalidArgument, http.StatusBadRequest},
	{objects.ErrNoSuchBucket, http.StatusNotFound},
	{objects.ErrNoSuchKey, http.StatusNotFound},
	{objects.ErrNoSuchSession, http.StatusNotFound},
	{objects.ErrBucketExists, http.StatusConflict},
	{objects.ErrBucketNotEmpty, http.StatusConflict},
	{objects.ErrBadDigest, http.StatusBadRequest},
	{objects.ErrSHA256Mismatch, http.StatusBadRequest},
	{objects.ErrIncompleteBody, http.StatusBadRequest},
	{objects.ErrPreconditionFailed, http.StatusPreconditionFailed},
	{objects.ErrInvalidRange, http.StatusRequestedRangeNotSatisfiable},
	{supplychain.ErrDenied, http.StatusForbidden},
	// The backend's failures come after the domain's, which name the cause
	// more precisely. Both responses carry Retry-After.
	{storage.ErrThrottled, http.StatusTooManyRequests},
	{storage.ErrUnavailable, http.StatusServiceUnavailable},
}

// writeObjectError writes the problem details of a domain error.
func writeObjectError(w http.ResponseWriter, r *http.Request, err error) {
	for _, entry := range objectErrors {
		if !errors.Is(err, entry.err) {
			continue
		}
		detail := err.Error()
		if errors.Is(entry.err, storage.ErrUnavailable) {
			detail = unavailable(w, r, err)
		}
		WriteProblem(w, r, entry.status, detail)
		return
	}
	if r.Context().Err() != nil {
		telemetry.Logger(r.Context()).InfoContext(r.Context(), "request cancelled by the client", "error", err)
		return
	}
	telemetry.Logger(r.Context()).ErrorContext(r.Context(), "request failed", "error", err)
	WriteProblem(w, r, http.StatusInternalServerError, "internal error; the server log has the details under this request ID")
}

// unavailable sets Retry-After for a storage failure, logs the failure
// and returns the detail for the client, which leaves out the backend's
// details.
func unavailable(w http.ResponseWriter, r *http.Request, err error) string {
	wait, _ := storage.RetryAfter(err)
	seconds := strconv.Itoa(int(wait / time.Second))
	w.Header().Set("Retry-After", seconds)
	telemetry.Logger(r.Context()).WarnContext(r.Context(), "storage unavailable", "error", err, "retry_after", wait)
	if errors.Is(err, storage.ErrThrottled) {
		return "the storage backend is throttling requests; retry after " + seconds + " seconds"
	}
	return "the storage backend is unavailable; retry after " + seconds + " seconds"
}

func (h *Handler) registerObjects() {
	h.handle("GET /api/v1/buckets", fixed(authz.ActionS3ListAllMyBuckets, authz.BucketResource("*")), h.listBuckets)
	h.handle("POST /api/v1/buckets", inHandler, h.createBucket)
	h.handle("DELETE /api/v1/buckets/{bucket}", onPath(authz.ActionS3DeleteBucket, "bucket", authz.BucketResource), h.deleteBucket)
	h.handle("GET /api/v1/buckets/{bucket}/usage", onPath(authz.ActionS3ListBucket, "bucket", authz.BucketResource), h.bucketUsage)
	h.handle("GET /api/v1/buckets/{bucket}/objects", onPath(authz.ActionS3ListBucket, "bucket", authz.BucketResource), h.listObjects)
	h.handle("PUT /api/v1/buckets/{bucket}/objects/{key...}", onObject(authz.ActionS3PutObject), h.putObject)
	// GET patterns match HEAD too. A separate HEAD pattern would conflict
	// with the more specific GET routes that EnableAttachments adds.
	h.handle("GET /api/v1/buckets/{bucket}/objects/{key...}", onObject(authz.ActionS3GetObject), h.getObject)
	h.handle("DELETE /api/v1/buckets/{bucket}/objects/{key...}", onObject(authz.ActionS3DeleteObject), h.deleteObject)
	h.handle("POST /api/v1/buckets/{bucket}/uploads", inHandler, h.startSession)
	h.handle("HEAD /api/v1/uploads/{id}", h.onSession, h.sessionStatus)
	h.handle("GET /api/v1/uploads/{id}", h.onSession, h.sessionStatus)
	h.handle("PATCH /api/v1/uploads/{id}", h.onSession, h.appendSession)
	h.handle("PUT /api/v1/uploads/{id}", h.onSession, h.completeSession)
	h.handle("DELETE /api/v1/uploads/{id}", h.onSession, h.cancelSession)
}

type bucketJSON struct {
	Name    string    `json:"name"`
	Region  string    `json:"region"`
	Created time.Time `json:"created"`
}

func (h *Handler) listBuckets(w http.ResponseWriter, r *http.Request) {
	buckets, err := h.objects.Buckets(r.Context())
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	page := Page[bucketJSON]{Items: []bucketJSON{}}
	for _, b := range buckets {
		page.Items = append(page.Items, bucketJSON(b))
	}
	writeJSON(w, page)
}

func (h *Handler) createBucket(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error()+`; expected {"name": "<bucket>"}`)
		return
	}
	if !h.allow(w, r, authz.ActionS3CreateBucket, authz.BucketResource(body.Name)) {
		return
	}
	if err := h.objects.CreateBucket(r.Context(), body.Name, ""); err != nil {
		writeObjectError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/buckets/"+body.Name)
	w.WriteHeader(http.StatusCreated)
}

func (h *Handler) deleteBucket(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("bucket")
	var err error
	switch r.URL.Query().Get("recursive") {
	case "true":
		err = h.objects.DeleteBucketRecursive(r.Context(), name)
	case "", "false":
		err = h.objects.DeleteBucket(r.Context(), name)
	default:
		WriteProblem(w, r, http.StatusBadRequest, "recursive must be true or false")
		return
	}
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// objectJSON describes an object in the native API.
type objectJSON struct {
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	Digest      string    `json:"digest"`
	ETag        string    `json:"etag"`
	ContentType string    `json:"content_type,omitempty"`
	Modified    time.Time `json:"modified"`
}

func objectInfo(o *metadata.Object) objectJSON {
	return objectJSON{Bucket: o.Bucket, Key: o.Key, Size: o.Size, Digest: string(o.Blob), ETag: o.ETag, ContentType: o.ContentType, Modified: o.Modified}
}

type objectPage struct {
	Items          []objectJSON `json:"items"`
	CommonPrefixes []string     `json:"common_prefixes,omitempty"`
	NextCursor     string       `json:"next_cursor,omitempty"`
}

func (h *Handler) listObjects(w http.ResponseWriter, r *http.Request) {
	limit, after, err := pageRequest(r)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	query := r.URL.Query()
	result, err := h.objects.ListObjects(r.Context(), objects.ListInput{
		Bucket: r.PathValue("bucket"), Prefix: query.Get("prefix"), Delimiter: query.Get("delimiter"), After: after, MaxKeys: limit,
	})
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	page := objectPage{Items: []objectJSON{}, CommonPrefixes: result.CommonPrefixes}
	for i := range result.Objects {
		page.Items = append(page.Items, objectInfo(&result.Objects[i]))
	}
	if result.Truncated {
		page.NextCursor = encodeCursor(result.Next)
	}
	writeJSON(w, page)
}

func (h *Handler) putObject(w http.ResponseWriter, r *http.Request) {
	in := objects.PutInput{
		Bucket: r.PathValue("bucket"), Key: r.PathValue("key"), Body: r.Body, Size: r.ContentLength,
		Attributes: objects.Attributes{ContentType: r.Header.Get("Content-Type")},
	}
	if value := r.Header.Get(ExpectedDigestHeader); value != "" {
		d, err := digest.Parse(value)
		if err != nil || d.Algorithm() != digest.SHA256 {
			WriteProblem(w, r, http.StatusBadRequest, fmt.Sprintf("%s must be a sha256 digest such as sha256:<64 hex>, got %q", ExpectedDigestHeader, value))
			return
		}
		in.ExpectedDigest = d
	}
	o, err := h.objects.PutObject(r.Context(), in)
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	writeObjectCreated(w, o)
}

// getObject serves GET and HEAD of an object. The ETag is the object's
// sha256 digest, so a client resuming a download sends it in If-Match and
// never mixes the bytes of two versions.
func (h *Handler) getObject(w http.ResponseWriter, r *http.Request) {
	o, err := h.objects.Object(r.Context(), r.PathValue("bucket"), r.PathValue("key"))
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	if h.policy != nil && r.Method == http.MethodGet {
		if err := h.policy.CheckObject(r.Context(), o); err != nil {
			writeObjectError(w, r, err)
			return
		}
	}
	etag := `"` + string(o.Blob) + `"`
	if match := r.Header.Get("If-Match"); match != "" && strings.TrimSpace(match) != "*" && strings.TrimSpace(match) != etag {
		WriteProblem(w, r, http.StatusPreconditionFailed, "the object changed: its ETag is "+etag)
		return
	}
	header := w.Header()
	header.Set("ETag", etag)
	header.Set("Coffer-Digest", string(o.Blob))
	header.Set("Accept-Ranges", "bytes")
	header.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	contentType := o.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	header.Set("Content-Type", contentType)
	if r.Method == http.MethodGet && r.Header.Get("Range") == "" && redirectObject(w, r, h.objects, o) {
		return
	}

	start, length, status := int64(0), o.Size, http.StatusOK
	if spec := r.Header.Get("Range"); spec != "" {
		rng, err := ranges.Parse(spec, o.Size)
		if err != nil {
			header.Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
			WriteProblem(w, r, http.StatusRequestedRangeNotSatisfiable, err.Error())
			return
		}
		start, length, status = rng.Start, rng.Length, http.StatusPartialContent
		header.Set("Content-Range", rng.ContentRange(o.Size))
	}
	header.Set("Content-Length", strconv.FormatInt(length, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	rc, err := h.objects.Open(r.Context(), o, start, length)
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	defer rc.Close()
	w.WriteHeader(status)
	stream.Copy(w, r, rc)
}

func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request) {
	if err := h.objects.DeleteObject(r.Context(), r.PathValue("bucket"), r.PathValue("key")); err != nil {
		writeObjectError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type sessionJSON struct {
	ID       string `json:"id"`
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Offset   int64  `json:"offset"`
	Location string `json:"location"`
}

func writeSession(w http.ResponseWriter, s objects.Session, status int) {
	location := "/api/v1/uploads/" + s.ID
	w.Header().Set("Location", location)
	w.Header().Set(UploadOffsetHeader, strconv.FormatInt(s.Offset, 10))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(sessionJSON{ID: s.ID, Bucket: s.Bucket, Key: s.Key, Offset: s.Offset, Location: location})
}

func (h *Handler) startSession(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Key string `json:"key"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "invalid JSON body: "+err.Error()+`; expected {"key": "<object key>"}`)
		return
	}
	if !h.allow(w, r, authz.ActionS3PutObject, authz.ObjectResource(r.PathValue("bucket"), body.Key)) {
		return
	}
	s, err := h.objects.StartSession(r.Context(), r.PathValue("bucket"), body.Key)
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	writeSession(w, s, http.StatusCreated)
}

func (h *Handler) sessionStatus(w http.ResponseWriter, r *http.Request) {
	s, err := h.objects.SessionStatus(r.Context(), r.PathValue("id"))
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set(UploadOffsetHeader, strconv.FormatInt(s.Offset, 10))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeSession(w, s, http.StatusOK)
}

// appendSession adds a chunk. Content-Range ("bytes <first>-<last>/*")
// must start at the session's offset; without it the chunk is appended at
// the offset and a broken connection keeps what arrived.
func (h *Handler) appendSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	current, err := h.objects.Session(r.Context(), id)
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	offset, declared := current.Offset, r.ContentLength
	if header := r.Header.Get("Content-Range"); header != "" {
		start, length, err := ranges.ParseContentRange(header)
		if err != nil {
			WriteProblem(w, r, http.StatusBadRequest, err.Error())
			return
		}
		offset, declared = start, length
	}
	s, err := h.objects.AppendSession(r.Context(), id, offset, r.Body, declared)
	if err != nil {
		if errors.Is(err, objects.ErrInvalidRange) {
			w.Header().Set(UploadOffsetHeader, strconv.FormatInt(s.Offset, 10))
			WriteProblem(w, r, http.StatusConflict, err.Error()+"; resume at the offset in Upload-Offset")
			return
		}
		writeObjectError(w, r, err)
		return
	}
	writeSession(w, s, http.StatusAccepted)
}

func (h *Handler) completeSession(w http.ResponseWriter, r *http.Request) {
	d, err := digest.Parse(r.URL.Query().Get("digest"))
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "the digest query parameter must be a sha256 digest: "+err.Error())
		return
	}
	o, err := h.objects.CompleteSession(r.Context(), r.PathValue("id"), d, objects.Attributes{ContentType: r.Header.Get("Content-Type")})
	if err != nil {
		writeObjectError(w, r, err)
		return
	}
	writeObjectCreated(w, o)
}

func (h *Handler) cancelSession(w http.ResponseWriter, r *http.Request) {
	if err := h.objects.CancelSession(r.Context(), r.PathValue("id")); err != nil {
		writeObjectError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeObjectCreated writes 201 with a stored object's ETag and JSON form.
func writeObjectCreated(w http.ResponseWriter, o *metadata.Object) {
	w.Header().Set("ETag", `"`+string(o.Blob)+`"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(objectInfo(o))
}
