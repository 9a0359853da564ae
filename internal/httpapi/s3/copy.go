package s3

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
}

// copySource reads x-amz-copy-source ("bucket/key" or "/bucket/key",
// URL-encoded, optionally with ?versionId=) and returns the source object
// after checking the x-amz-copy-source-if-* conditions.
func (h *Handler) copySource(r *http.Request, req *request) (*metadata.Object, error) {
	raw := r.Header.Get("X-Amz-Copy-Source")
	raw, version, _ := strings.Cut(raw, "?")
	if version != "" && !strings.HasPrefix(version, "versionId=null") {
		return nil, errNotImplemented("copy of an object version")
	}
	decoded, err := url.PathUnescape(raw)
	if err != nil {
		return nil, errInvalidArgument("x-amz-copy-source is not URL-encoded correctly")
	}
	bucket, key, ok := strings.Cut(strings.TrimPrefix(decoded, "/"), "/")
	if !ok || bucket == "" || key == "" {
		return nil, errInvalidArgument("x-amz-copy-source must name a bucket and a key")
	}
	if err := h.authorize(r, req, authz.ActionS3GetObject, authz.ObjectResource(bucket, key)); err != nil {
		return nil, err
	}
	src, err := h.store.Object(r.Context(), bucket, key)
	if err != nil {
		return nil, err
	}
	if !copyConditionsHold(r, src) {
		return nil, newError("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	}
	return src, nil
}

// copyConditionsHold evaluates x-amz-copy-source-if-match, -if-none-match,
// -if-modified-since and -if-unmodified-since. S3 returns 412 when any of them
// fails.
func copyConditionsHold(r *http.Request, src *metadata.Object) bool {
	modified := src.Modified.Truncate(time.Second)
	if value := r.Header.Get("X-Amz-Copy-Source-If-Match"); value != "" && !etagListMatches(value, src.ETag) {
		return false
	}
	if value := r.Header.Get("X-Amz-Copy-Source-If-None-Match"); value != "" && etagListMatches(value, src.ETag) {
		return false
	}
	if value := r.Header.Get("X-Amz-Copy-Source-If-Unmodified-Since"); value != "" {
		if t, err := http.ParseTime(value); err == nil && modified.After(t) {
			return false
		}
	}
	if value := r.Header.Get("X-Amz-Copy-Source-If-Modified-Since"); value != "" {
		if t, err := http.ParseTime(value); err == nil && !modified.After(t) {
			return false
		}
	}
	return true
}

func (h *Handler) copyObject(w http.ResponseWriter, r *http.Request, req *request) error {
	src, err := h.copySource(r, req)
	if err != nil {
		return err
	}
	in := objects.CopyInput{Source: src, Bucket: req.bucket, Key: req.key}
	switch directive := r.Header.Get("X-Amz-Metadata-Directive"); directive {
	case "", "COPY":
		if src.Bucket == req.bucket && src.Key == req.key {
			return newError("InvalidRequest", http.StatusBadRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
	case "REPLACE":
		attrs, err := attributesFrom(r)
		if err != nil {
			return err
		}
		in.Replace = &attrs
	default:
		return errInvalidArgument("Unknown metadata directive " + directive)
	}
	if in.Condition, err = writeCondition(r); err != nil {
		return err
	}
	o, err := h.store.CopyObject(r.Context(), in)
	if err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, copyObjectResult{Xmlns: s3Namespace, LastModified: xmlTime(o.Modified), ETag: `"` + o.ETag + `"`})
}

type objectAttributes struct {
	XMLName      xml.Name           `xml:"GetObjectAttributesResponse"`
	Xmlns        string             `xml:"xmlns,attr"`
	ETag         string             `xml:"ETag,omitempty"`
	Checksum     *attributeChecksum `xml:"Checksum,omitempty"`
	ObjectParts  *attributeParts    `xml:"ObjectParts,omitempty"`
	StorageClass string             `xml:"StorageClass,omitempty"`
	ObjectSize   *int64             `xml:"ObjectSize,omitempty"`
}

type attributeChecksum struct {
	CRC32        string `xml:"ChecksumCRC32,omitempty"`
	CRC32C       string `xml:"ChecksumCRC32C,omitempty"`
	CRC64NVME    string `xml:"ChecksumCRC64NVME,omitempty"`
	SHA1         string `xml:"ChecksumSHA1,omitempty"`
	SHA256       string `xml:"ChecksumSHA256,omitempty"`
	ChecksumType string `xml:"ChecksumType,omitempty"`
}

// attributeParts is the ObjectParts element. The S3 API names the
// TotalPartsCount member PartsCount in XML, and the SDKs read only that.
type attributeParts struct {
	TotalPartsCount int `xml:"PartsCount"`
	Parts           []struct {
		PartNumber     int    `xml:"PartNumber"`
		Size           int64  `xml:"Size"`
		ChecksumCRC32  string `xml:"ChecksumCRC32,omitempty"`
		ChecksumSHA256 string `xml:"ChecksumSHA256,omitempty"`
	} `xml:"Part"`
}

// getObjectAttributes serves GET ?attributes with the attributes named in
// x-amz-object-attributes.
func (h *Handler) getObjectAttributes(w http.ResponseWriter, r *http.Request, req *request) error {
	o, err := h.store.Object(r.Context(), req.bucket, req.key)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, value := range r.Header.Values("X-Amz-Object-Attributes") {
		for _, name := range strings.Split(value, ",") {
			wanted[strings.TrimSpace(name)] = true
		}
	}
	if len(wanted) == 0 {
		return newError("InvalidArgument", http.StatusBadRequest, "x-amz-object-attributes must name at least one attribute")
	}
	result := objectAttributes{Xmlns: s3Namespace}
	if wanted["ETag"] {
		result.ETag = o.ETag
	}
	if wanted["StorageClass"] {
		result.StorageClass = "STANDARD"
	}
	if wanted["ObjectSize"] {
		result.ObjectSize = &o.Size
	}
	if wanted["Checksum"] {
		result.Checksum = attributeChecksums(o)
	}
	if wanted["ObjectParts"] && len(o.Parts) > 0 {
		result.ObjectParts = &attributeParts{TotalPartsCount: len(o.Parts)}
	}
	w.Header().Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	return writeXML(w, http.StatusOK, result)
}

func attributeChecksums(o *metadata.Object) *attributeChecksum {
	c := &attributeChecksum{ChecksumType: o.ChecksumType}
	for alg, value := range o.Checksums {
		switch alg {
		case "CRC32":
			c.CRC32 = value
		case "CRC32C":
			c.CRC32C = value
		case "CRC64NVME":
			c.CRC64NVME = value
		case "SHA1":
			c.SHA1 = value
		case "SHA256":
			c.SHA256 = value
		}
	}
	if c.SHA256 == "" && o.ChecksumType != "COMPOSITE" {
		c.SHA256 = sha256Base64(o)
	}
	if c.ChecksumType == "" {
		c.ChecksumType = "FULL_OBJECT"
	}
	return c
}
