package oci

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer/internal/registry"
)

func (h *Handler) getManifest(w http.ResponseWriter, r *http.Request, rt route) {
	ref, err := registry.ParseReference(rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	m, err := h.reg.GetManifest(r.Context(), rt.name, ref)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !accepts(r.Header.Values("Accept"), m.MediaType) {
		writeError(w, r, fmt.Errorf("%w: manifest %s is %s, which the Accept header does not list", registry.ErrNotAcceptable, ref, m.MediaType))
		return
	}
	if h.policy != nil && r.Method == http.MethodGet {
		if err := h.policy.CheckManifest(r.Context(), rt.name, ref.Tag, m); err != nil {
			writeError(w, r, err)
			return
		}
	}

	header := w.Header()
	header.Set("Content-Type", m.MediaType)
	header.Set("Content-Length", strconv.Itoa(len(m.Content)))
	header.Set("Docker-Content-Digest", string(m.Digest))
	header.Set("ETag", `"`+string(m.Digest)+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(m.Content)
	}
}

// accepts reports whether an Accept header list admits mediaType. No
// header, or a wildcard, admits everything.
func accepts(values []string, mediaType string) bool {
	if len(values) == 0 {
		return true
	}
	for _, value := range values {
		for _, item := range strings.Split(value, ",") {
			parsed, _, err := mime.ParseMediaType(strings.TrimSpace(item))
			if err != nil {
				continue
			}
			if parsed == mediaType || parsed == "*/*" || parsed == "application/*" {
				return true
			}
		}
	}
	return false
}

func (h *Handler) putManifest(w http.ResponseWriter, r *http.Request, rt route) {
	ref, err := registry.ParseReference(rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	tags := r.URL.Query()["tag"]
	for _, tag := range tags {
		if err := registry.ValidateTag(tag); err != nil {
			writeError(w, r, err)
			return
		}
	}

	m, err := h.reg.PutManifest(r.Context(), rt.name, ref, r.Header.Get("Content-Type"), r.Body, tags)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if h.pushed != nil {
		h.pushed(context.WithoutCancel(r.Context()), rt.name, m)
	}
	header := w.Header()
	header.Set("Location", "/v2/"+rt.name+"/manifests/"+string(m.Digest))
	header.Set("Docker-Content-Digest", string(m.Digest))
	if m.Subject != "" {
		header.Set("OCI-Subject", string(m.Subject))
	}
	for _, tag := range tags {
		header.Add("OCI-Tag", tag)
	}
	header.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

func (h *Handler) deleteManifest(w http.ResponseWriter, r *http.Request, rt route) {
	ref, err := registry.ParseReference(rt.target)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := h.reg.DeleteManifest(r.Context(), rt.name, ref); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusAccepted)
}
