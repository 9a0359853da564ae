package s3

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// s3Namespace is the XML namespace of S3 documents.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// maxXMLBody bounds request documents (DeleteObjects with 1,000 keys of
// 1,024 bytes fits well within it).
const maxXMLBody = 2 << 20

// owner is the single owner of every bucket in this version.
type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

var rootOwner = owner{ID: "coffer", DisplayName: "coffer"}

// timeFormat is the ISO 8601 form S3 uses in XML documents.
const timeFormat = "2006-01-02T15:04:05.000Z"

func xmlTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// writeXML answers with status and an XML document.
func writeXML(w http.ResponseWriter, status int, v any) error {
	body, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
	return nil
}

// readXML decodes a request document of at most maxXMLBody bytes into v.
// An empty body with allowEmpty leaves v unchanged.
func readXML(body io.Reader, v any, allowEmpty bool) error {
	data, err := io.ReadAll(io.LimitReader(body, maxXMLBody+1))
	if err != nil {
		return err
	}
	if len(data) > maxXMLBody {
		return errMalformedXML(fmt.Sprintf("the document is larger than %d bytes", maxXMLBody))
	}
	if len(data) == 0 {
		if allowEmpty {
			return nil
		}
		return errMalformedXML("the request body is empty")
	}
	if err := xml.Unmarshal(data, v); err != nil {
		return errMalformedXML(err.Error())
	}
	return nil
}
