package s3

import (
	"encoding/xml"
	"net/http"
)

type listAllMyBucketsResult struct {
	XMLName xml.Name      `xml:"ListAllMyBucketsResult"`
	Xmlns   string        `xml:"xmlns,attr"`
	Owner   owner         `xml:"Owner"`
	Buckets []bucketEntry `xml:"Buckets>Bucket"`
}

type bucketEntry struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion,omitempty"`
}

func (h *Handler) listBuckets(w http.ResponseWriter, r *http.Request, req *request) error {
	buckets, err := h.store.Buckets(r.Context())
	if err != nil {
		return err
	}
	result := listAllMyBucketsResult{Xmlns: s3Namespace, Owner: rootOwner, Buckets: []bucketEntry{}}
	for _, b := range buckets {
		result.Buckets = append(result.Buckets, bucketEntry{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: b.Region})
	}
	return writeXML(w, http.StatusOK, result)
}

type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string   `xml:"LocationConstraint"`
}

func (h *Handler) createBucket(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := checkCannedACL(r); err != nil {
		return err
	}
	var config createBucketConfiguration
	if err := readXML(req.auth.Body, &config, true); err != nil {
		return err
	}
	if config.LocationConstraint != "" && config.LocationConstraint != h.opts.Region {
		return newError("InvalidLocationConstraint", http.StatusBadRequest,
			"The specified location-constraint "+config.LocationConstraint+" is not valid; this endpoint serves "+h.opts.Region)
	}
	if err := h.store.CreateBucket(r.Context(), req.bucket, h.opts.Region); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+req.bucket)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) headBucket(w http.ResponseWriter, r *http.Request, req *request) error {
	b, err := h.store.Bucket(r.Context(), req.bucket)
	if err != nil {
		return err
	}
	w.Header().Set("X-Amz-Bucket-Region", b.Region)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := h.store.DeleteBucket(r.Context(), req.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteBucketConfig handles DELETE of a CORS or policy configuration,
// which buckets never have here. S3 returns 204 for that too.
func (h *Handler) deleteBucketConfig(w http.ResponseWriter, r *http.Request, req *request) error {
	if _, err := h.store.Bucket(r.Context(), req.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"LocationConstraint"`
	Xmlns   string   `xml:"xmlns,attr"`
	Region  string   `xml:",chardata"`
}

func (h *Handler) getBucketLocation(w http.ResponseWriter, r *http.Request, req *request) error {
	b, err := h.store.Bucket(r.Context(), req.bucket)
	if err != nil {
		return err
	}
	region := b.Region
	if region == "us-east-1" {
		region = "" // S3 reports us-east-1 as an empty constraint
	}
	return writeXML(w, http.StatusOK, locationConstraint{Xmlns: s3Namespace, Region: region})
}

type versioningConfiguration struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Xmlns   string   `xml:"xmlns,attr"`
}

// getBucketVersioning reports that versioning was never enabled.
func (h *Handler) getBucketVersioning(w http.ResponseWriter, r *http.Request, req *request) error {
	if _, err := h.store.Bucket(r.Context(), req.bucket); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, versioningConfiguration{Xmlns: s3Namespace})
}

type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Xmlns   string   `xml:"xmlns,attr"`
	Owner   owner    `xml:"Owner"`
	Grants  []grant  `xml:"AccessControlList>Grant"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type grantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

// getACL serves GetBucketAcl and GetObjectAcl: the owner has full control.
func (h *Handler) getACL(w http.ResponseWriter, r *http.Request, req *request) error {
	if req.key != "" {
		if _, err := h.store.Object(r.Context(), req.bucket, req.key); err != nil {
			return err
		}
	} else if _, err := h.store.Bucket(r.Context(), req.bucket); err != nil {
		return err
	}
	return writeXML(w, http.StatusOK, accessControlPolicy{
		Xmlns: s3Namespace,
		Owner: rootOwner,
		Grants: []grant{{
			Grantee:    grantee{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: rootOwner.ID, DisplayName: rootOwner.DisplayName},
			Permission: "FULL_CONTROL",
		}},
	})
}

// putBucketACL and putObjectACL accept only the canned ACL "private",
// which is what every bucket and object has.
func (h *Handler) putBucketACL(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := checkCannedACL(r); err != nil {
		return err
	}
	if _, err := h.store.Bucket(r.Context(), req.bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) putObjectACL(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := checkCannedACL(r); err != nil {
		return err
	}
	if _, err := h.store.Object(r.Context(), req.bucket, req.key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func checkCannedACL(r *http.Request) error {
	if acl := r.Header.Get("X-Amz-Acl"); acl != "" && acl != "private" {
		return errNotImplemented("canned ACL " + acl + " (only private is supported)")
	}
	return nil
}
