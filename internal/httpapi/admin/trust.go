package admin

import (
	"context"
	"errors"
	"github.com/cofferhq/coffer/internal/authz"
	"io"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/supplychain"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// TrustStores is the part of the metadata store that /api/v1/trust uses.
type TrustStores interface {
	PutTrustStore(ctx context.Context, s metadata.TrustStore) error
	GetTrustStore(ctx context.Context, name string) (metadata.TrustStore, error)
	DeleteTrustStore(ctx context.Context, name string) error
}

// TrustStatus computes supply-chain status and lists the valid trust stores.
type TrustStatus interface {
	TrustStores(ctx context.Context) ([]*supplychain.TrustStore, error)
	Status(ctx context.Context, d digest.Digest) (*supplychain.Status, error)
}

// maxTrustStoreBytes bounds a trust store definition: a few keys,
// certificates and a trusted root fit in well under 1 MiB.
const maxTrustStoreBytes = 1 << 20

// EnableTrust serves /api/v1/trust (trust store management) and
// /api/v1/artifacts/{digest}/trust (trust status).
func (h *Handler) EnableTrust(stores TrustStores, status TrustStatus) {
	h.trustStores, h.trustStatus = stores, status
	anyStore := fixed(authz.ActionTrustRead, authz.ManagementResource("trust", "*"))
	h.handle("GET /api/v1/trust", anyStore, h.listTrustStores)
	h.handle("GET /api/v1/trust/{name}", onPath(authz.ActionTrustRead, "name", trustResource), h.getTrustStore)
	h.handle("PUT /api/v1/trust/{name}", onPath(authz.ActionTrustWrite, "name", trustResource), h.putTrustStore)
	h.handle("DELETE /api/v1/trust/{name}", onPath(authz.ActionTrustWrite, "name", trustResource), h.deleteTrustStore)
	// The trust status of a digest reports what the trust stores make of
	// its signatures, so it needs read access to them.
	h.handle("GET /api/v1/artifacts/{digest}/trust", anyStore, h.artifactTrust)
}

// trustStoreJSON is a trust store as the API shows it: the definition plus
// the key hints and certificate fingerprints derived from it.
type trustStoreJSON struct {
	Name string `json:"name"`
	supplychain.TrustStoreConfig
	CosignKeyHints       []string  `json:"cosign_key_hints"`
	NotationFingerprints []string  `json:"notation_certificate_fingerprints"`
	Created              time.Time `json:"created"`
	Updated              time.Time `json:"updated"`
}

func trustStoreInfo(ts *supplychain.TrustStore) trustStoreJSON {
	out := trustStoreJSON{
		Name: ts.Name, TrustStoreConfig: ts.Config, CosignKeyHints: []string{}, NotationFingerprints: []string{},
		Created: ts.Created, Updated: ts.Updated,
	}
	for _, key := range ts.Keyring.Keys {
		out.CosignKeyHints = append(out.CosignKeyHints, key.Hint)
	}
	out.NotationFingerprints = append(out.NotationFingerprints, ts.Fingerprints...)
	return out
}

func (h *Handler) listTrustStores(w http.ResponseWriter, r *http.Request) {
	stores, err := h.trustStatus.TrustStores(r.Context())
	if err != nil {
		h.internalError(w, r, "list trust stores failed", err)
		return
	}
	page := Page[trustStoreJSON]{Items: []trustStoreJSON{}}
	for _, ts := range stores {
		page.Items = append(page.Items, trustStoreInfo(ts))
	}
	writeJSON(w, page)
}

func (h *Handler) getTrustStore(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	record, err := h.trustStores.GetTrustStore(r.Context(), name)
	if errors.Is(err, metadata.ErrNotFound) {
		WriteProblem(w, r, http.StatusNotFound, "no trust store named "+name)
		return
	}
	if err != nil {
		h.internalError(w, r, "get trust store failed", err)
		return
	}
	ts, err := supplychain.ParseTrustStoreConfig(record.Name, record.Document)
	if err != nil {
		h.internalError(w, r, "stored trust store is invalid", err)
		return
	}
	ts.Created, ts.Updated = record.Created, record.Updated
	writeJSON(w, trustStoreInfo(ts))
}

func (h *Handler) putTrustStore(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTrustStoreBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteProblem(w, r, http.StatusRequestEntityTooLarge, "the trust store definition exceeds 1 MiB")
		return
	}
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, "reading the request body failed: "+err.Error())
		return
	}
	ts, err := supplychain.ParseTrustStoreConfig(name, body)
	if err != nil {
		WriteProblem(w, r, http.StatusBadRequest, err.Error())
		return
	}

	_, err = h.trustStores.GetTrustStore(r.Context(), name)
	created := errors.Is(err, metadata.ErrNotFound)
	if err != nil && !created {
		h.internalError(w, r, "get trust store failed", err)
		return
	}
	now := time.Now().UTC()
	if err := h.trustStores.PutTrustStore(r.Context(), metadata.TrustStore{Name: name, Document: ts.Document(), Created: now, Updated: now}); err != nil {
		h.internalError(w, r, "put trust store failed", err)
		return
	}
	record, err := h.trustStores.GetTrustStore(r.Context(), name)
	if err != nil {
		h.internalError(w, r, "get trust store failed", err)
		return
	}
	ts.Created, ts.Updated = record.Created, record.Updated

	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/trust/"+name)
	}
	writeJSONStatus(w, status, trustStoreInfo(ts))
}

func (h *Handler) deleteTrustStore(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	err := h.trustStores.DeleteTrustStore(r.Context(), name)
	if errors.Is(err, metadata.ErrNotFound) {
		WriteProblem(w, r, http.StatusNotFound, "no trust store named "+name)
		return
	}
	if err != nil {
		h.internalError(w, r, "delete trust store failed", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// trustStatusJSON adds the subject's locations to a status.
type trustStatusJSON struct {
	*supplychain.Status
	Manifests []manifestLocationJSON `json:"manifests"`
	Objects   []objectLocationJSON   `json:"objects"`
}

type manifestLocationJSON struct {
	Repository string `json:"repository"`
	MediaType  string `json:"media_type"`
	Size       int64  `json:"size"`
}

type objectLocationJSON struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

func (h *Handler) artifactTrust(w http.ResponseWriter, r *http.Request) {
	d, err := digest.Parse(r.PathValue("digest"))
	if err != nil || !d.Algorithm().Available() {
		WriteProblem(w, r, http.StatusBadRequest, "invalid digest "+r.PathValue("digest")+": expected sha256:<64 hex digits> or sha512:<128 hex digits>")
		return
	}
	status, err := h.trustStatus.Status(r.Context(), d)
	if errors.Is(err, supplychain.ErrUnknownDigest) {
		WriteProblem(w, r, http.StatusNotFound, "no manifest, object or referrer has digest "+string(d))
		return
	}
	if err != nil {
		h.internalError(w, r, "compute trust status failed", err)
		return
	}
	out := trustStatusJSON{Status: status, Manifests: []manifestLocationJSON{}, Objects: []objectLocationJSON{}}
	for _, m := range status.Manifests {
		out.Manifests = append(out.Manifests, manifestLocationJSON(m))
	}
	for _, o := range status.Objects {
		out.Objects = append(out.Objects, objectLocationJSON(o))
	}
	writeJSON(w, out)
}

func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, message string, err error) {
	telemetry.Logger(r.Context()).ErrorContext(r.Context(), message, "error", err)
	WriteProblem(w, r, http.StatusInternalServerError, message)
}

// trustResource is the management resource of the trust store name.
func trustResource(name string) string { return authz.ManagementResource("trust", name) }
