package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/checksum"
)

// maxDeleteKeys is the most keys one DeleteObjects request may name.
const maxDeleteKeys = 1000

type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key string `xml:"Key"`
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name        `xml:"DeleteResult"`
	Xmlns   string          `xml:"xmlns,attr"`
	Deleted []deletedEntry  `xml:"Deleted"`
	Errors  []deleteFailure `xml:"Error"`
}

type deletedEntry struct {
	Key string `xml:"Key"`
}

type deleteFailure struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// deleteObjects handles POST ?delete. The body may carry Content-MD5, a
// flexible checksum header, or neither; whichever is present is verified.
func (h *Handler) deleteObjects(w http.ResponseWriter, r *http.Request, req *request) error {
	body, err := io.ReadAll(io.LimitReader(req.auth.Body, maxXMLBody+1))
	if err != nil {
		return err
	}
	if err := verifyBodyDigests(r, req.auth, body); err != nil {
		return err
	}
	var doc deleteRequest
	if err := readXML(bytes.NewReader(body), &doc, false); err != nil {
		return err
	}
	if len(doc.Objects) == 0 || len(doc.Objects) > maxDeleteKeys {
		return errMalformedXML("a Delete request names 1 to 1000 objects")
	}
	if _, err := h.store.Bucket(r.Context(), req.bucket); err != nil {
		return err
	}

	result := deleteResult{Xmlns: s3Namespace}
	for _, entry := range doc.Objects {
		err := h.authorize(r, req, authz.ActionS3DeleteObject, authz.ObjectResource(req.bucket, entry.Key))
		if err == nil {
			err = h.store.DeleteObject(r.Context(), req.bucket, entry.Key)
		}
		if err != nil {
			code, _, message, known := classify(err)
			if !known && r.Context().Err() == nil {
				return err
			}
			result.Errors = append(result.Errors, deleteFailure{Key: entry.Key, Code: code, Message: message})
			continue
		}
		if !doc.Quiet {
			result.Deleted = append(result.Deleted, deletedEntry{Key: entry.Key})
		}
	}
	return writeXML(w, http.StatusOK, result)
}

// verifyBodyDigests checks Content-MD5 and x-amz-checksum-* headers of a
// small request body that the handler holds in memory.
func verifyBodyDigests(r *http.Request, auth Auth, body []byte) error {
	if value := r.Header.Get("Content-Md5"); value != "" {
		want, err := base64.StdEncoding.DecodeString(value)
		if err != nil || len(want) != md5.Size {
			return newError("InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid")
		}
		if sum := md5.Sum(body); !bytes.Equal(sum[:], want) {
			return newError("BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received")
		}
	}
	req, err := checksumRequest(r, auth)
	if err != nil || req.Algorithm == "" || req.Expected == nil {
		return err
	}
	alg, err := checksum.Parse(req.Algorithm)
	if err != nil {
		return errInvalidArgument(err.Error())
	}
	h := alg.New()
	h.Write(body)
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != req.Expected() {
		return newError("BadDigest", http.StatusBadRequest, "The "+req.Algorithm+" you specified did not match the calculated checksum")
	}
	return nil
}
