package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/attachments"
	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/signing"
	"github.com/cofferhq/coffer/internal/supplychain"
)

// supplyChain is the set of supply-chain services that the API and S3 subsystems share:
// trust status, the pull and download policies and attachments.
type supplyChain struct {
	status      *supplychain.StatusService
	enforcer    *supplychain.Enforcer
	attachments *attachments.Service
	// signing is nil unless server-side signing is configured.
	signing *signing.Service
}

// newSupplyChain builds the supply-chain services over one metadata store
// and blob store. Unless the configuration keeps them, deleting an object
// of store deletes its attachments; with signing configured, writing an
// object in scope signs it.
func newSupplyChain(cfg config.Config, meta metadata.Store, blobs *blob.Store, store *objects.Store, metrics *serverMetrics, logger *slog.Logger) (*supplyChain, error) {
	status := supplychain.NewStatusService(meta, blobReader{blobs}, time.Now, logger)
	reg := registry.New(meta, blobs, cfg.Registry.MaxManifestBytes)
	sc := &supplyChain{
		status:      status,
		enforcer:    supplychain.NewEnforcer(status, requestPrincipal, recordPolicyDecision(metrics)),
		attachments: attachments.New(reg, store, time.Now),
	}
	if !cfg.SupplyChain.Attachments.KeepOnObjectDelete {
		store.OnDelete(func(ctx context.Context, bucket, key string) {
			// A failure is logged and not returned, because the object
			// deletion is already stored and the request succeeded.
			if err := sc.attachments.DeleteAll(ctx, bucket, key); err != nil {
				logger.ErrorContext(ctx, "delete attachments of a deleted object failed", "bucket", bucket, "key", key, "error", err)
			}
		})
	}
	if cfg.SupplyChain.Signing.KeyFile != "" {
		var err error
		if sc.signing, err = newSigning(cfg, reg, sc.attachments, logger); err != nil {
			return nil, err
		}
		store.OnStore(sc.signing.ObjectStored)
	}
	return sc, nil
}

func newSigning(cfg config.Config, reg *registry.Registry, attached *attachments.Service, logger *slog.Logger) (*signing.Service, error) {
	sc := cfg.SupplyChain.Signing
	signer, err := supplychain.LoadSigner(sc.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("supply_chain.signing.key_file: %w", err)
	}
	reference := sc.DockerReference
	if reference == "" {
		reference = cfg.Listen
	}
	return signing.New(signing.Options{Signer: signer, Repositories: sc.Repositories, Buckets: sc.Buckets, DockerReference: reference}, reg, attached, logger)
}

// requestPrincipal returns the principal that the audit record of the
// request names, or "" without one.
func requestPrincipal(ctx context.Context) string {
	principal, _, _ := audit.FromContext(ctx).Identity()
	return principal
}

// recordPolicyDecision returns the function that adds each policy decision
// to the request's audit record and counts it.
func recordPolicyDecision(metrics *serverMetrics) func(ctx context.Context, d supplychain.Decision) {
	return func(ctx context.Context, d supplychain.Decision) {
		effect, result := authz.Allow, "allowed"
		switch {
		case d.Exempt:
			result = "exempt"
		case !d.Allowed():
			effect, result = authz.Deny, "denied"
		}
		audit.AddDecision(ctx, "supplychain:"+d.Action, d.Resource+"@"+string(d.Digest), authz.Decision{
			Effect:       effect,
			Reason:       authz.Reason("supply-chain policy (" + d.Mode + "): " + d.Summary()),
			StatementIDs: []string{"trust-store:" + d.TrustStore},
		})
		if metrics != nil {
			metrics.policyDecisions.WithLabelValues(d.Mode, result).Inc()
		}
	}
}

// newPolicyDecisionCounter returns the counter of supply-chain policy
// decisions, with every series present from the start.
func newPolicyDecisionCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coffer_supply_chain_policy_decisions_total",
		Help: "Supply-chain policy decisions on manifest pulls and object downloads, by mode (enforce or audit) and result (allowed, denied or exempt). In audit mode a denied request is still served.",
	}, []string{"mode", "result"})
	reg.MustRegister(counter)
	for _, mode := range []string{supplychain.ModeEnforce, supplychain.ModeAudit} {
		for _, result := range []string{"allowed", "denied", "exempt"} {
			counter.WithLabelValues(mode, result)
		}
	}
	return counter
}
