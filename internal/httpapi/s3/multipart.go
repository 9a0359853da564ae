package s3

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/httpapi/ranges"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

func (h *Handler) createMultipartUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := checkCannedACL(r); err != nil {
		return err
	}
	attrs, err := attributesFrom(r)
	if err != nil {
		return err
	}
	u, err := h.store.CreateMultipartUpload(r.Context(), objects.CreateUploadInput{
		Bucket: req.bucket, Key: req.key, Attributes: attrs,
		ChecksumAlgorithm: r.Header.Get("X-Amz-Checksum-Algorithm"),
		ChecksumType:      r.Header.Get("X-Amz-Checksum-Type"),
	})
	if err != nil {
		return err
	}
	if u.ChecksumAlgorithm != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", u.ChecksumAlgorithm)
		w.Header().Set("X-Amz-Checksum-Type", u.ChecksumType)
	}
	return writeXML(w, http.StatusOK, initiateMultipartUploadResult{Xmlns: s3Namespace, Bucket: u.Bucket, Key: u.Key, UploadID: u.ID})
}

// partTarget reads uploadId and partNumber and returns the upload.
func (h *Handler) partTarget(r *http.Request, req *request) (metadata.MultipartUpload, int, error) {
	n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
	if err != nil || n < 1 || n > objects.MaxPartNumber {
		return metadata.MultipartUpload{}, 0, errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	u, err := h.store.Upload(r.Context(), req.bucket, req.key, r.URL.Query().Get("uploadId"))
	return u, n, err
}

func (h *Handler) uploadPart(w http.ResponseWriter, r *http.Request, req *request) error {
	u, n, err := h.partTarget(r, req)
	if err != nil {
		return err
	}
	sum, err := checksumRequest(r, req.auth)
	if err != nil {
		return err
	}
	p, err := h.store.UploadPart(r.Context(), objects.PartInput{
		Upload: u, Number: n, Body: req.auth.Body, Size: req.auth.DecodedLength,
		ContentMD5: r.Header.Get("Content-Md5"), Checksum: sum,
	})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+p.ETag+`"`)
	if p.Checksum != "" {
		w.Header().Set("X-Amz-Checksum-"+strings.ToLower(u.ChecksumAlgorithm), p.Checksum)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// uploadPartCopy stores a byte range of an existing object as a part.
func (h *Handler) uploadPartCopy(w http.ResponseWriter, r *http.Request, req *request) error {
	u, n, err := h.partTarget(r, req)
	if err != nil {
		return err
	}
	src, err := h.copySource(r, req)
	if err != nil {
		return err
	}
	start, length := int64(0), src.Size
	if spec := r.Header.Get("X-Amz-Copy-Source-Range"); spec != "" {
		if start, length, err = copyRange(spec, src.Size); err != nil {
			return err
		}
	}
	rc, err := h.store.Open(r.Context(), src, start, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	p, err := h.store.UploadPart(r.Context(), objects.PartInput{Upload: u, Number: n, Body: rc, Size: length})
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, copyPartResult{Xmlns: s3Namespace, LastModified: xmlTime(p.Modified), ETag: `"` + p.ETag + `"`})
}

// copyRange reads x-amz-copy-source-range, "bytes=first-last" with both
// bounds inside the source. Unlike a GET Range, S3 rejects a last byte past
// the end instead of shortening the range.
func copyRange(spec string, size int64) (start, length int64, err error) {
	invalid := newError("InvalidRange", http.StatusRequestedRangeNotSatisfiable,
		"The x-amz-copy-source-range value must be of the form bytes=first-last within the source object of "+strconv.FormatInt(size, 10)+" bytes")
	bounds, ok := strings.CutPrefix(spec, "bytes=")
	if !ok {
		return 0, 0, invalid
	}
	firstText, lastText, ok := strings.Cut(bounds, "-")
	if !ok {
		return 0, 0, invalid
	}
	rng, parseErr := ranges.Parse(spec, size)
	last, lastErr := strconv.ParseInt(lastText, 10, 64)
	if parseErr != nil || firstText == "" || lastErr != nil || last >= size {
		return 0, 0, invalid
	}
	return rng.Start, rng.Length, nil
}

type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber        int    `xml:"PartNumber"`
		ETag              string `xml:"ETag"`
		ChecksumCRC32     string `xml:"ChecksumCRC32"`
		ChecksumCRC32C    string `xml:"ChecksumCRC32C"`
		ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME"`
		ChecksumSHA1      string `xml:"ChecksumSHA1"`
		ChecksumSHA256    string `xml:"ChecksumSHA256"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName           xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns             string   `xml:"xmlns,attr"`
	Location          string   `xml:"Location"`
	Bucket            string   `xml:"Bucket"`
	Key               string   `xml:"Key"`
	ETag              string   `xml:"ETag"`
	ChecksumCRC32     string   `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string   `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string   `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string   `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string   `xml:"ChecksumSHA256,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

// keepAliveAfter is how long a completion may run before the server sends
// the 200 status and starts writing spaces to keep the connection open, as
// S3 does; an error found after that arrives as an Error document under 200.
const keepAliveAfter = 5 * time.Second

func (h *Handler) completeMultipartUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	var doc completeRequest
	if err := readXML(req.auth.Body, &doc, false); err != nil {
		return err
	}
	if len(doc.Parts) == 0 {
		return errMalformedXML("the request lists no parts")
	}
	cond, err := writeCondition(r)
	if err != nil {
		return err
	}
	in := objects.CompleteInput{Bucket: req.bucket, Key: req.key, UploadID: r.URL.Query().Get("uploadId"), Condition: cond}
	for _, p := range doc.Parts {
		in.Parts = append(in.Parts, objects.CompletedPart{
			Number:   p.PartNumber,
			ETag:     p.ETag,
			Checksum: firstNonEmpty(p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256),
		})
	}

	type outcome struct {
		o   *metadata.Object
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		o, err := h.store.CompleteMultipartUpload(context.WithoutCancel(r.Context()), in)
		done <- outcome{o, err}
	}()

	var result outcome
	started := false
	timer := time.NewTimer(keepAliveAfter)
	defer timer.Stop()
	for waiting := true; waiting; {
		select {
		case result = <-done:
			waiting = false
		case <-timer.C:
			if !started {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusOK)
				_, _ = io.WriteString(w, xml.Header)
				started = true
			}
			_, _ = io.WriteString(w, " ")
			_ = http.NewResponseController(w).Flush()
			timer.Reset(keepAliveAfter)
		}
	}

	if !started {
		if result.err != nil {
			return result.err
		}
		return writeXML(w, http.StatusOK, completion(req, result.o))
	}
	var body any = completion(req, result.o)
	if result.err != nil {
		code, _, message, _ := classify(result.err)
		body = errorBody{Code: code, Message: message, Resource: r.URL.Path, RequestID: w.Header().Get(requestIDHeader)}
	}
	data, _ := xml.Marshal(body)
	_, _ = w.Write(data)
	return nil
}

func completion(req *request, o *metadata.Object) completeResult {
	result := completeResult{
		Xmlns: s3Namespace, Location: "/" + req.bucket + "/" + req.key, Bucket: req.bucket, Key: req.key,
		ETag: `"` + o.ETag + `"`, ChecksumType: o.ChecksumType,
	}
	c := attributeChecksums(o)
	result.ChecksumCRC32, result.ChecksumCRC32C, result.ChecksumCRC64NVME = c.CRC32, c.CRC32C, c.CRC64NVME
	result.ChecksumSHA1 = c.SHA1
	if o.Checksums["SHA256"] != "" {
		result.ChecksumSHA256 = c.SHA256
	}
	return result
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func (h *Handler) abortMultipartUpload(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := h.store.AbortMultipartUpload(r.Context(), req.bucket, req.key, r.URL.Query().Get("uploadId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type listPartsResult struct {
	XMLName              xml.Name    `xml:"ListPartsResult"`
	Xmlns                string      `xml:"xmlns,attr"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	PartNumberMarker     int         `xml:"PartNumberMarker"`
	NextPartNumberMarker int         `xml:"NextPartNumberMarker,omitempty"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	ChecksumAlgorithm    string      `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType         string      `xml:"ChecksumType,omitempty"`
	Initiator            owner       `xml:"Initiator"`
	Owner                owner       `xml:"Owner"`
	StorageClass         string      `xml:"StorageClass"`
	Parts                []partEntry `xml:"Part"`
}

type partEntry struct {
	PartNumber        int    `xml:"PartNumber"`
	LastModified      string `xml:"LastModified"`
	ETag              string `xml:"ETag"`
	Size              int64  `xml:"Size"`
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

func (h *Handler) listParts(w http.ResponseWriter, r *http.Request, req *request) error {
	query := r.URL.Query()
	u, err := h.store.Upload(r.Context(), req.bucket, req.key, query.Get("uploadId"))
	if err != nil {
		return err
	}
	maxParts, marker, err := intParam(query.Get("max-parts"), 1000, 1000), 0, nil
	if value := query.Get("part-number-marker"); value != "" {
		if marker, err = strconv.Atoi(value); err != nil || marker < 0 {
			return errInvalidArgument("part-number-marker must be a non-negative integer")
		}
	}
	parts, err := h.store.Parts(r.Context(), u.ID, marker, maxParts+1)
	if err != nil {
		return err
	}
	result := listPartsResult{
		Xmlns: s3Namespace, Bucket: u.Bucket, Key: u.Key, UploadID: u.ID, PartNumberMarker: marker, MaxParts: maxParts,
		ChecksumAlgorithm: u.ChecksumAlgorithm, ChecksumType: u.ChecksumType,
		Initiator: rootOwner, Owner: rootOwner, StorageClass: "STANDARD",
	}
	if len(parts) > maxParts {
		parts = parts[:maxParts]
		result.IsTruncated = true
		result.NextPartNumberMarker = marker // max-parts=0 returns no part
		if maxParts > 0 {
			result.NextPartNumberMarker = parts[maxParts-1].Number
		}
	}
	for _, p := range parts {
		entry := partEntry{PartNumber: p.Number, LastModified: xmlTime(p.Modified), ETag: `"` + p.ETag + `"`, Size: p.Size}
		setPartChecksum(&entry, u.ChecksumAlgorithm, p.Checksum)
		result.Parts = append(result.Parts, entry)
	}
	return writeXML(w, http.StatusOK, result)
}

func setPartChecksum(entry *partEntry, algorithm, value string) {
	switch algorithm {
	case "CRC32":
		entry.ChecksumCRC32 = value
	case "CRC32C":
		entry.ChecksumCRC32C = value
	case "CRC64NVME":
		entry.ChecksumCRC64NVME = value
	case "SHA1":
		entry.ChecksumSHA1 = value
	case "SHA256":
		entry.ChecksumSHA256 = value
	}
}

type listUploadsResult struct {
	XMLName            xml.Name       `xml:"ListMultipartUploadsResult"`
	Xmlns              string         `xml:"xmlns,attr"`
	Bucket             string         `xml:"Bucket"`
	KeyMarker          string         `xml:"KeyMarker"`
	UploadIDMarker     string         `xml:"UploadIdMarker"`
	NextKeyMarker      string         `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string         `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string         `xml:"Prefix"`
	MaxUploads         int            `xml:"MaxUploads"`
	IsTruncated        bool           `xml:"IsTruncated"`
	Uploads            []uploadEntry  `xml:"Upload"`
	CommonPrefixes     []commonPrefix `xml:"CommonPrefixes"`
}

type uploadEntry struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    owner  `xml:"Initiator"`
	Owner        owner  `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

func (h *Handler) listMultipartUploads(w http.ResponseWriter, r *http.Request, req *request) error {
	query := r.URL.Query()
	maxUploads := intParam(query.Get("max-uploads"), 1000, 1000)
	keyMarker, idMarker := query.Get("key-marker"), query.Get("upload-id-marker")
	uploads, err := h.store.Uploads(r.Context(), req.bucket, query.Get("prefix"), keyMarker, idMarker, maxUploads+1)
	if err != nil {
		return err
	}
	result := listUploadsResult{
		Xmlns: s3Namespace, Bucket: req.bucket, KeyMarker: keyMarker, UploadIDMarker: idMarker,
		Prefix: query.Get("prefix"), MaxUploads: maxUploads,
	}
	if len(uploads) > maxUploads {
		uploads = uploads[:maxUploads]
		result.IsTruncated = true
		result.NextKeyMarker, result.NextUploadIDMarker = keyMarker, idMarker // max-uploads=0 returns no upload
		if maxUploads > 0 {
			last := uploads[maxUploads-1]
			result.NextKeyMarker, result.NextUploadIDMarker = last.Key, last.ID
		}
	}
	for _, u := range uploads {
		result.Uploads = append(result.Uploads, uploadEntry{
			Key: u.Key, UploadID: u.ID, Initiator: rootOwner, Owner: rootOwner, StorageClass: "STANDARD", Initiated: xmlTime(u.Created),
		})
	}
	return writeXML(w, http.StatusOK, result)
}

// intParam parses a non-negative page size, falling back to def and capping at limit.
func intParam(value string, def, limit int) int {
	n, err := strconv.Atoi(value)
	if err != nil || n < 0 {
		return def
	}
	return min(n, limit)
}
