package s3_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

type listBucketResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string   `xml:"Name"`
	Prefix                string   `xml:"Prefix"`
	Marker                *string  `xml:"Marker"`
	NextMarker            string   `xml:"NextMarker"`
	StartAfter            string   `xml:"StartAfter"`
	ContinuationToken     string   `xml:"ContinuationToken"`
	NextContinuationToken string   `xml:"NextContinuationToken"`
	KeyCount              *int     `xml:"KeyCount"`
	MaxKeys               int      `xml:"MaxKeys"`
	Delimiter             string   `xml:"Delimiter"`
	EncodingType          string   `xml:"EncodingType"`
	IsTruncated           bool     `xml:"IsTruncated"`
	Contents              []struct {
		Key          string `xml:"Key"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		StorageClass string `xml:"StorageClass"`
		Owner        *struct {
			ID string `xml:"ID"`
		} `xml:"Owner"`
		ChecksumAlgorithm []string `xml:"ChecksumAlgorithm"`
	} `xml:"Contents"`
	CommonPrefixes []struct {
		Prefix string `xml:"Prefix"`
	} `xml:"CommonPrefixes"`
}

// entries returns the keys and common prefixes of a page, prefixes
// marked with a trailing " (prefix)", in byte order.
func (r listBucketResult) entries() []string {
	var out []string
	for _, c := range r.Contents {
		out = append(out, c.Key)
	}
	for _, cp := range r.CommonPrefixes {
		out = append(out, cp.Prefix+" (prefix)")
	}
	slices.Sort(out)
	return out
}

var listingTestKeys = []string{"a", "a/1", "a/2", "a/b/1", "a/b/2", "a0", "b/", "b/x", "c", "d/e/f"}

func newListingServer(t *testing.T) *testServer {
	t.Helper()
	s := newTestServer(t)
	s.createBucket(t, "list")
	for _, key := range listingTestKeys {
		s.putObject(t, "list", key, []byte(key))
	}
	return s
}

func (s *testServer) list(t *testing.T, query url.Values) listBucketResult {
	t.Helper()
	var result listBucketResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/list?"+query.Encode(), nil), &result)
	return result
}

func TestListObjectsV2(t *testing.T) {
	s := newListingServer(t)
	result := s.list(t, url.Values{"list-type": {"2"}, "delimiter": {"/"}})
	want := []string{"a", "a/ (prefix)", "a0", "b/ (prefix)", "c", "d/ (prefix)"}
	if got := result.entries(); !slices.Equal(got, want) {
		t.Errorf("entries = %q, want %q", got, want)
	}
	if result.Name != "list" || result.Delimiter != "/" || result.MaxKeys != 1000 || result.IsTruncated {
		t.Errorf("result = name %q delimiter %q max %d truncated %v", result.Name, result.Delimiter, result.MaxKeys, result.IsTruncated)
	}
	if result.KeyCount == nil || *result.KeyCount != len(want) {
		t.Errorf("KeyCount = %v, want %d", result.KeyCount, len(want))
	}
	if result.Marker != nil {
		t.Errorf("v2 result has a Marker")
	}
	first := result.Contents[0]
	if first.ETag != quotedMD5([]byte("a")) || first.Size != 1 || first.StorageClass != "STANDARD" {
		t.Errorf("entry a = %+v", first)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", first.LastModified); err != nil {
		t.Errorf("LastModified %q: %v", first.LastModified, err)
	}
	if first.Owner != nil {
		t.Errorf("v2 without fetch-owner lists an Owner")
	}

	result = s.list(t, url.Values{"list-type": {"2"}, "prefix": {"a/"}, "delimiter": {"/"}, "fetch-owner": {"true"}})
	if got, want := result.entries(), []string{"a/1", "a/2", "a/b/ (prefix)"}; !slices.Equal(got, want) {
		t.Errorf("prefix a/ entries = %q, want %q", got, want)
	}
	if result.Prefix != "a/" {
		t.Errorf("Prefix = %q, want a/", result.Prefix)
	}
	if result.Contents[0].Owner == nil || result.Contents[0].Owner.ID == "" {
		t.Errorf("v2 with fetch-owner=true lists no Owner")
	}

	result = s.list(t, url.Values{"list-type": {"2"}, "start-after": {"a/b/1"}})
	if got, want := result.entries(), []string{"a/b/2", "a0", "b/", "b/x", "c", "d/e/f"}; !slices.Equal(got, want) {
		t.Errorf("start-after a/b/1 = %q, want %q", got, want)
	}
	if result.StartAfter != "a/b/1" {
		t.Errorf("StartAfter = %q", result.StartAfter)
	}
}

// TestListObjectsV2Pages walks the continuation tokens with page sizes
// that end pages on keys and on common prefixes.
func TestListObjectsV2Pages(t *testing.T) {
	s := newListingServer(t)
	for _, delimiter := range []string{"", "/"} {
		full := s.list(t, url.Values{"list-type": {"2"}, "delimiter": {delimiter}}).entries()
		for maxKeys := 1; maxKeys <= len(full); maxKeys++ {
			var all []string
			token := ""
			for pages := 0; ; pages++ {
				if pages > len(full) {
					t.Fatalf("delimiter %q max-keys %d: too many pages", delimiter, maxKeys)
				}
				query := url.Values{"list-type": {"2"}, "delimiter": {delimiter}, "max-keys": {strconv.Itoa(maxKeys)}}
				if token != "" {
					query.Set("continuation-token", token)
				}
				page := s.list(t, query)
				if page.ContinuationToken != token {
					t.Errorf("ContinuationToken = %q, want %q", page.ContinuationToken, token)
				}
				if page.KeyCount == nil || *page.KeyCount != len(page.entries()) {
					t.Errorf("KeyCount = %v, want %d", page.KeyCount, len(page.entries()))
				}
				all = append(all, page.entries()...)
				if !page.IsTruncated {
					if page.NextContinuationToken != "" {
						t.Errorf("last page has NextContinuationToken %q", page.NextContinuationToken)
					}
					break
				}
				if page.NextContinuationToken == "" {
					t.Fatalf("truncated page without NextContinuationToken")
				}
				token = page.NextContinuationToken
			}
			if !slices.Equal(all, full) {
				t.Errorf("delimiter %q max-keys %d: pages = %q, want %q", delimiter, maxKeys, all, full)
			}
		}
	}
}

func TestListObjectsV1Pages(t *testing.T) {
	s := newListingServer(t)
	for _, delimiter := range []string{"", "/"} {
		full := s.list(t, url.Values{"delimiter": {delimiter}}).entries()
		for maxKeys := 1; maxKeys <= len(full); maxKeys++ {
			var all []string
			marker := ""
			for pages := 0; ; pages++ {
				if pages > len(full) {
					t.Fatalf("delimiter %q max-keys %d: too many pages", delimiter, maxKeys)
				}
				page := s.list(t, url.Values{"delimiter": {delimiter}, "max-keys": {strconv.Itoa(maxKeys)}, "marker": {marker}})
				if page.Marker == nil || *page.Marker != marker {
					t.Errorf("Marker = %v, want %q", page.Marker, marker)
				}
				if page.KeyCount != nil {
					t.Errorf("v1 result has KeyCount")
				}
				for _, c := range page.Contents {
					if c.Owner == nil {
						t.Errorf("v1 entry %q has no Owner", c.Key)
					}
				}
				entries := page.entries()
				all = append(all, entries...)
				if !page.IsTruncated {
					break
				}
				// S3 sends NextMarker only with a delimiter; without one
				// the client continues from the last key.
				switch {
				case delimiter == "" && page.NextMarker != "":
					t.Errorf("NextMarker %q without a delimiter", page.NextMarker)
				case delimiter == "":
					marker = page.Contents[len(page.Contents)-1].Key
				case page.NextMarker == "":
					t.Fatalf("truncated page with a delimiter has no NextMarker")
				default:
					marker = page.NextMarker
				}
			}
			if !slices.Equal(all, full) {
				t.Errorf("delimiter %q max-keys %d: pages = %q, want %q", delimiter, maxKeys, all, full)
			}
		}
	}
}

func TestListObjectsEncodingTypeURL(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "enc")
	keys := []string{"dir one/file two.txt", "ünï/cödé", "plus+sign", "amp&er", "percent%41", "ctl\x01char"}
	for _, key := range keys {
		s.must(t, http.StatusOK, http.MethodPut, "/enc/"+(&url.URL{Path: key}).EscapedPath(), []byte("x"))
	}
	for _, listType := range []string{"1", "2"} {
		var result listBucketResult
		query := url.Values{"list-type": {listType}, "encoding-type": {"url"}}
		decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/enc?"+query.Encode(), nil), &result)
		if result.EncodingType != "url" {
			t.Errorf("v%s EncodingType = %q, want url", listType, result.EncodingType)
		}
		var decoded []string
		for _, c := range result.Contents {
			if c.Key == "ctl\x01char" || c.Key == "dir one/file two.txt" {
				t.Errorf("v%s key %q is not encoded", listType, c.Key)
			}
			key, err := url.QueryUnescape(c.Key)
			if err != nil {
				t.Errorf("v%s key %q does not decode: %v", listType, c.Key, err)
			}
			decoded = append(decoded, key)
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		if !slices.Equal(decoded, want) {
			t.Errorf("v%s decoded keys = %q, want %q", listType, decoded, want)
		}
	}

	var result listBucketResult
	query := url.Values{"list-type": {"2"}, "encoding-type": {"url"}, "prefix": {"dir one/"}, "delimiter": {" "}}
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/enc?"+query.Encode(), nil), &result)
	if prefix, _ := url.QueryUnescape(result.Prefix); prefix != "dir one/" || result.Prefix == "dir one/" {
		t.Errorf("Prefix = %q, want the encoded form of %q", result.Prefix, "dir one/")
	}
	if len(result.CommonPrefixes) != 1 {
		t.Fatalf("CommonPrefixes = %+v, want one", result.CommonPrefixes)
	}
	if cp, _ := url.QueryUnescape(result.CommonPrefixes[0].Prefix); cp != "dir one/file " {
		t.Errorf("common prefix = %q (decoded %q), want dir one/file ", result.CommonPrefixes[0].Prefix, cp)
	}
}

func TestListObjectsMaxKeysZero(t *testing.T) {
	s := newListingServer(t)
	result := s.list(t, url.Values{"list-type": {"2"}, "max-keys": {"0"}})
	if len(result.entries()) != 0 || result.MaxKeys != 0 {
		t.Errorf("max-keys 0 = %d entries, MaxKeys %d", len(result.entries()), result.MaxKeys)
	}
	result = s.list(t, url.Values{"list-type": {"2"}, "max-keys": {"5000"}})
	if result.MaxKeys != 1000 {
		t.Errorf("max-keys 5000 reported as %d, want the cap 1000", result.MaxKeys)
	}
}

func TestListObjectsErrors(t *testing.T) {
	s := newListingServer(t)
	for _, query := range []string{
		"list-type=2&max-keys=-1",
		"list-type=2&max-keys=ten",
		"list-type=2&encoding-type=base64",
		"list-type=2&continuation-token=%21%21%21",
		"max-keys=-5",
	} {
		expectError(t, s.do(t, http.MethodGet, "/list?"+query, nil), http.StatusBadRequest, "InvalidArgument", "/list")
	}
	expectError(t, s.do(t, http.MethodGet, "/nobucket?list-type=2", nil), http.StatusNotFound, "NoSuchBucket", "/nobucket")
	expectError(t, s.do(t, http.MethodGet, "/nobucket", nil), http.StatusNotFound, "NoSuchBucket", "/nobucket")
}

func TestListObjectsChecksumAlgorithm(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "sums")
	s.putObject(t, "sums", "crc", []byte("x"), "X-Amz-Checksum-Crc32", crc32Base64([]byte("x")))
	s.putObject(t, "sums", "plain", []byte("x"))
	var result listBucketResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/sums?list-type=2", nil), &result)
	if len(result.Contents) != 2 {
		t.Fatalf("Contents = %+v", result.Contents)
	}
	if got := result.Contents[0].ChecksumAlgorithm; !slices.Equal(got, []string{"CRC32"}) {
		t.Errorf("ChecksumAlgorithm of crc = %q, want [CRC32]", got)
	}
	if got := result.Contents[1].ChecksumAlgorithm; len(got) != 0 {
		t.Errorf("ChecksumAlgorithm of plain = %q, want none", got)
	}
}
