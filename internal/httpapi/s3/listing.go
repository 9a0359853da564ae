package s3

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cofferhq/coffer/internal/objects"
)

// maxListKeys is the largest page of ListObjects, as in S3.
const maxListKeys = 1000

type listEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
	Owner        *owner `xml:"Owner,omitempty"`
	// ChecksumAlgorithm lists the object's checksum algorithms.
	ChecksumAlgorithm []string `xml:"ChecksumAlgorithm,omitempty"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

type listBucketResult struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Xmlns          string         `xml:"xmlns,attr"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         *string        `xml:"Marker,omitempty"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	StartAfter     string         `xml:"StartAfter,omitempty"`
	Token          string         `xml:"ContinuationToken,omitempty"`
	NextToken      string         `xml:"NextContinuationToken,omitempty"`
	KeyCount       *int           `xml:"KeyCount,omitempty"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter,omitempty"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	Contents       []listEntry    `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

// listParams reads the parameters ListObjects v1 and v2 share.
func listParams(r *http.Request) (prefix, delimiter, encoding string, maxKeys int, err error) {
	query := r.URL.Query()
	prefix, delimiter = query.Get("prefix"), query.Get("delimiter")
	encoding = query.Get("encoding-type")
	if encoding != "" && encoding != "url" {
		return "", "", "", 0, errInvalidArgument("Invalid Encoding Method specified in Request")
	}
	maxKeys = maxListKeys
	if value := query.Get("max-keys"); value != "" {
		n, convErr := strconv.Atoi(value)
		if convErr != nil || n < 0 {
			return "", "", "", 0, errInvalidArgument("max-keys must be a non-negative integer")
		}
		maxKeys = min(n, maxListKeys)
	}
	return prefix, delimiter, encoding, maxKeys, nil
}

func (h *Handler) listObjectsV1(w http.ResponseWriter, r *http.Request, req *request) error {
	prefix, delimiter, encoding, maxKeys, err := listParams(r)
	if err != nil {
		return err
	}
	marker := r.URL.Query().Get("marker")
	page, err := h.store.ListObjects(r.Context(), objects.ListInput{
		Bucket: req.bucket, Prefix: prefix, Delimiter: delimiter, After: marker, MaxKeys: maxKeys,
	})
	if err != nil {
		return err
	}
	result := listBucketResult{
		Xmlns: s3Namespace, Name: req.bucket, Prefix: encode(prefix, encoding), Marker: ptr(encode(marker, encoding)),
		MaxKeys: maxKeys, Delimiter: encode(delimiter, encoding), EncodingType: encoding, IsTruncated: page.Truncated,
	}
	if page.Truncated && delimiter != "" {
		result.NextMarker = encode(page.Next, encoding)
	}
	fillEntries(&result, page, encoding, true)
	return writeXML(w, http.StatusOK, result)
}

func (h *Handler) listObjectsV2(w http.ResponseWriter, r *http.Request, req *request) error {
	prefix, delimiter, encoding, maxKeys, err := listParams(r)
	if err != nil {
		return err
	}
	query := r.URL.Query()
	token, startAfter := query.Get("continuation-token"), query.Get("start-after")
	after := startAfter
	if token != "" {
		raw, decodeErr := base64.RawURLEncoding.DecodeString(token)
		if decodeErr != nil {
			return errInvalidArgument("The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	page, err := h.store.ListObjects(r.Context(), objects.ListInput{
		Bucket: req.bucket, Prefix: prefix, Delimiter: delimiter, After: after, MaxKeys: maxKeys,
	})
	if err != nil {
		return err
	}
	count := len(page.Objects) + len(page.CommonPrefixes)
	result := listBucketResult{
		Xmlns: s3Namespace, Name: req.bucket, Prefix: encode(prefix, encoding), StartAfter: encode(startAfter, encoding),
		Token: token, KeyCount: &count, MaxKeys: maxKeys, Delimiter: encode(delimiter, encoding),
		EncodingType: encoding, IsTruncated: page.Truncated,
	}
	if page.Truncated {
		result.NextToken = base64.RawURLEncoding.EncodeToString([]byte(page.Next))
	}
	fillEntries(&result, page, encoding, query.Get("fetch-owner") == "true")
	return writeXML(w, http.StatusOK, result)
}

func fillEntries(result *listBucketResult, page objects.ListResult, encoding string, withOwner bool) {
	for _, o := range page.Objects {
		entry := listEntry{
			Key: encode(o.Key, encoding), LastModified: xmlTime(o.Modified), ETag: `"` + o.ETag + `"`,
			Size: o.Size, StorageClass: "STANDARD",
		}
		if withOwner {
			entry.Owner = &rootOwner
		}
		for alg := range o.Checksums {
			entry.ChecksumAlgorithm = append(entry.ChecksumAlgorithm, alg)
		}
		result.Contents = append(result.Contents, entry)
	}
	for _, cp := range page.CommonPrefixes {
		result.CommonPrefixes = append(result.CommonPrefixes, commonPrefix{Prefix: encode(cp, encoding)})
	}
}

// encode applies encoding-type=url to a key or prefix in a response.
func encode(s, encoding string) string {
	if encoding != "url" {
		return s
	}
	return url.QueryEscape(s)
}

func ptr[T any](v T) *T { return &v }
