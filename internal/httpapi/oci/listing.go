package oci

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cofferhq/coffer/internal/registry"
)

// maxPageSize bounds one page of tags or repositories; a client that
// asks for more, or gives no n, gets a Link header to the next page.
const maxPageSize = 10000

// pageParams reads n and last. Without n the page holds up to maxPageSize
// entries.
func pageParams(r *http.Request) (limit int, last string, err error) {
	query := r.URL.Query()
	last = query.Get("last")
	limit = maxPageSize
	if value := query.Get("n"); value != "" {
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return 0, "", fmt.Errorf("%w: n=%q must be a non-negative integer", registry.ErrPaginationInvalid, value)
		}
		limit = min(n, maxPageSize)
	}
	return limit, last, nil
}

// setNextLink adds the RFC 8288 Link header to the next page.
func setNextLink(w http.ResponseWriter, path string, limit int, last string) {
	query := url.Values{"n": {strconv.Itoa(limit)}, "last": {last}}
	w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, path, query.Encode()))
}

func writeJSON(w http.ResponseWriter, contentType string, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (h *Handler) listTags(w http.ResponseWriter, r *http.Request, rt route) {
	limit, last, err := pageParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tags, more, err := h.reg.Tags(r.Context(), rt.name, last, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if tags == nil {
		tags = []string{}
	}
	if more && limit > 0 {
		setNextLink(w, "/v2/"+rt.name+"/tags/list", limit, tags[len(tags)-1])
	}
	writeJSON(w, "application/json", http.StatusOK, struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{rt.name, tags})
}

func (h *Handler) catalog(w http.ResponseWriter, r *http.Request) {
	limit, last, err := pageParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	repos, more, err := h.reg.Catalog(r.Context(), last, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if more && limit > 0 {
		setNextLink(w, "/v2/_catalog", limit, repos[len(repos)-1])
	}
	writeJSON(w, "application/json", http.StatusOK, struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// referrerDescriptor is one entry of the referrers index.
type referrerDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

func (h *Handler) referrers(w http.ResponseWriter, r *http.Request, rt route) {
	d, err := registry.ParseDigest(rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	artifactType := r.URL.Query().Get("artifactType")
	refs, err := h.reg.Referrers(r.Context(), rt.name, d, artifactType)
	if err != nil {
		writeError(w, r, err)
		return
	}

	manifests := make([]referrerDescriptor, len(refs))
	for i, ref := range refs {
		manifests[i] = referrerDescriptor{
			MediaType:    ref.MediaType,
			Digest:       string(ref.Digest),
			Size:         ref.Size,
			ArtifactType: ref.ArtifactType,
			Annotations:  ref.Annotations,
		}
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	writeJSON(w, registry.MediaTypeOCIIndex, http.StatusOK, struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Manifests     []referrerDescriptor `json:"manifests"`
	}{2, registry.MediaTypeOCIIndex, manifests})
}
