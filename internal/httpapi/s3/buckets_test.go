package s3_test

import (
	"encoding/xml"
	"net/http"
	"slices"
	"testing"
	"time"
)

type listAllMyBucketsResult struct {
	Owner struct {
		ID          string `xml:"ID"`
		DisplayName string `xml:"DisplayName"`
	} `xml:"Owner"`
	Buckets []struct {
		Name         string `xml:"Name"`
		CreationDate string `xml:"CreationDate"`
		BucketRegion string `xml:"BucketRegion"`
	} `xml:"Buckets>Bucket"`
}

func TestListBuckets(t *testing.T) {
	s := newTestServer(t)
	var empty listAllMyBucketsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/", nil), &empty)
	if len(empty.Buckets) != 0 {
		t.Errorf("buckets of a new server = %d, want 0", len(empty.Buckets))
	}

	s.createBucket(t, "zeta")
	s.createBucket(t, "alpha")
	var result listAllMyBucketsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/", nil), &result)
	var names []string
	for _, b := range result.Buckets {
		names = append(names, b.Name)
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", b.CreationDate); err != nil {
			t.Errorf("CreationDate of %s = %q: %v", b.Name, b.CreationDate, err)
		}
		if b.BucketRegion != testRegion {
			t.Errorf("BucketRegion of %s = %q, want %q", b.Name, b.BucketRegion, testRegion)
		}
	}
	if want := []string{"alpha", "zeta"}; !slices.Equal(names, want) {
		t.Errorf("buckets = %q, want %q", names, want)
	}
	if result.Owner.ID == "" {
		t.Errorf("Owner has no ID")
	}
}

func TestCreateBucket(t *testing.T) {
	s := newTestServer(t)
	resp := s.must(t, http.StatusOK, http.MethodPut, "/plain", nil)
	if got := resp.header.Get("Location"); got != "/plain" {
		t.Errorf("Location = %q, want /plain", got)
	}
	// minio-go sends PUT /bucket/ with a trailing slash; rclone sends x-amz-acl: private.
	s.must(t, http.StatusOK, http.MethodPut, "/slash/", nil, "X-Amz-Acl", "private")

	config := []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`)
	s.must(t, http.StatusOK, http.MethodPut, "/configured", config)
	s.must(t, http.StatusOK, http.MethodPut, "/empty-config", []byte(`<CreateBucketConfiguration/>`))

	var result listAllMyBucketsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/", nil), &result)
	if len(result.Buckets) != 4 {
		t.Errorf("bucket count = %d, want 4", len(result.Buckets))
	}
}

func TestCreateBucketErrors(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "taken")
	wrongRegion := []byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)

	cases := []struct {
		name    string
		path    string
		body    []byte
		headers []string
		status  int
		code    string
	}{
		{"existing bucket", "/taken", nil, nil, http.StatusConflict, "BucketAlreadyOwnedByYou"},
		{"other region", "/elsewhere", wrongRegion, nil, http.StatusBadRequest, "InvalidLocationConstraint"},
		{"uppercase name", "/Upper", nil, nil, http.StatusBadRequest, "InvalidBucketName"},
		{"IP address name", "/10.0.0.1", nil, nil, http.StatusBadRequest, "InvalidBucketName"},
		{"malformed configuration", "/broken", []byte(`<CreateBucketConfiguration>`), nil, http.StatusBadRequest, "MalformedXML"},
		{"public ACL", "/public", nil, []string{"X-Amz-Acl", "public-read"}, http.StatusNotImplemented, "NotImplemented"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(t, http.MethodPut, tc.path, tc.body, tc.headers...)
			expectError(t, resp, tc.status, tc.code, tc.path)
		})
	}
	var result listAllMyBucketsResult
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/", nil), &result)
	if len(result.Buckets) != 1 {
		t.Errorf("buckets after rejected creates = %d, want 1", len(result.Buckets))
	}
}

func TestHeadBucket(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "here")
	resp := s.must(t, http.StatusOK, http.MethodHead, "/here", nil)
	if got := resp.header.Get("X-Amz-Bucket-Region"); got != testRegion {
		t.Errorf("x-amz-bucket-region = %q, want %q", got, testRegion)
	}
	resp = s.do(t, http.MethodHead, "/gone", nil)
	if resp.status != http.StatusNotFound {
		t.Errorf("HEAD missing bucket = %d, want 404", resp.status)
	}
	if len(resp.body) != 0 {
		t.Errorf("HEAD response has a body: %q", resp.body)
	}
	if resp.header.Get("X-Amz-Request-Id") == "" {
		t.Errorf("HEAD error has no x-amz-request-id")
	}
}

func TestGetBucketLocation(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "here")
	var location struct {
		XMLName xml.Name `xml:"LocationConstraint"`
		Region  string   `xml:",chardata"`
	}
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/here?location", nil), &location)
	if location.Region != "" {
		t.Errorf("location of a us-east-1 bucket = %q, want empty", location.Region)
	}
	expectError(t, s.do(t, http.MethodGet, "/gone?location", nil), http.StatusNotFound, "NoSuchBucket", "/gone")
}

func TestGetBucketVersioning(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "here")
	var versioning struct {
		XMLName xml.Name `xml:"VersioningConfiguration"`
		Status  string   `xml:"Status"`
	}
	decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, "/here?versioning", nil), &versioning)
	if versioning.Status != "" {
		t.Errorf("versioning status = %q, want none", versioning.Status)
	}
	expectError(t, s.do(t, http.MethodGet, "/gone?versioning", nil), http.StatusNotFound, "NoSuchBucket", "/gone")
}

type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   struct {
		ID string `xml:"ID"`
	} `xml:"Owner"`
	Grants []struct {
		Grantee struct {
			ID   string `xml:"ID"`
			Type string `xml:"type,attr"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

func TestGetACL(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "here")
	s.putObject(t, "here", "obj", []byte("x"))
	for _, path := range []string{"/here?acl", "/here/obj?acl"} {
		var acl accessControlPolicy
		decodeXML(t, s.must(t, http.StatusOK, http.MethodGet, path, nil), &acl)
		if len(acl.Grants) != 1 {
			t.Fatalf("%s: %d grants, want 1", path, len(acl.Grants))
		}
		g := acl.Grants[0]
		if g.Permission != "FULL_CONTROL" || g.Grantee.ID != acl.Owner.ID || g.Grantee.Type != "CanonicalUser" {
			t.Errorf("%s: grant = %+v, want the owner %q with FULL_CONTROL", path, g, acl.Owner.ID)
		}
	}
	expectError(t, s.do(t, http.MethodGet, "/here/missing?acl", nil), http.StatusNotFound, "NoSuchKey", "/here/missing")
	s.must(t, http.StatusOK, http.MethodPut, "/here?acl", nil, "X-Amz-Acl", "private")
	expectError(t, s.do(t, http.MethodPut, "/here/obj?acl", nil, "X-Amz-Acl", "public-read"), http.StatusNotImplemented, "NotImplemented", "/here/obj")
}

func TestBucketConfigurationStubs(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "here")
	cases := []struct {
		method, query string
		status        int
		code          string
	}{
		{http.MethodGet, "cors", http.StatusNotFound, "NoSuchCORSConfiguration"},
		{http.MethodGet, "policy", http.StatusNotFound, "NoSuchBucketPolicy"},
		{http.MethodGet, "object-lock", http.StatusNotFound, "ObjectLockConfigurationNotFoundError"},
		{http.MethodGet, "lifecycle", http.StatusNotImplemented, "NotImplemented"},
		{http.MethodPut, "lifecycle", http.StatusNotImplemented, "NotImplemented"},
		{http.MethodGet, "tagging", http.StatusNotImplemented, "NotImplemented"},
		{http.MethodPut, "versioning", http.StatusNotImplemented, "NotImplemented"},
		{http.MethodPut, "policy", http.StatusBadRequest, "MalformedPolicy"},
	}
	for _, tc := range cases {
		resp := s.do(t, tc.method, "/here?"+tc.query, nil)
		t.Run(tc.method+" "+tc.query, func(t *testing.T) {
			expectError(t, resp, tc.status, tc.code, "/here")
		})
	}
	for _, query := range []string{"cors", "policy"} {
		s.must(t, http.StatusNoContent, http.MethodDelete, "/here?"+query, nil)
	}
	expectError(t, s.do(t, http.MethodGet, "/gone?cors", nil), http.StatusNotFound, "NoSuchBucket", "/gone")
}

func TestDeleteBucket(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "full")
	s.putObject(t, "full", "k", []byte("x"))
	expectError(t, s.do(t, http.MethodDelete, "/full", nil), http.StatusConflict, "BucketNotEmpty", "/full")
	s.must(t, http.StatusNoContent, http.MethodDelete, "/full/k", nil)
	s.must(t, http.StatusNoContent, http.MethodDelete, "/full", nil)
	s.must(t, http.StatusNotFound, http.MethodHead, "/full", nil)
	expectError(t, s.do(t, http.MethodDelete, "/full", nil), http.StatusNotFound, "NoSuchBucket", "/full")
}

func TestMethodNotAllowed(t *testing.T) {
	s := newTestServer(t)
	s.createBucket(t, "here")
	expectError(t, s.do(t, http.MethodPost, "/", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "/")
	expectError(t, s.do(t, http.MethodPost, "/here", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "/here")
	expectError(t, s.do(t, http.MethodPatch, "/here/k", nil), http.StatusMethodNotAllowed, "MethodNotAllowed", "/here/k")
}
