package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// imageManifest is an OCI image manifest with the fields the benchmark fills.
type imageManifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Config        descriptor   `json:"config"`
	Layers        []descriptor `json:"layers"`
}

// manifestLayers is how many layers of workload (b) the benchmark manifest
// lists, a typical count for a container image.
const manifestLayers = 8

// runManifestGets is workload (d): store one image manifest under a tag,
// then send a fixed number of GET requests for the tag from concurrent
// clients and compare every body with the stored manifest.
func runManifestGets(ctx context.Context, b *bench, repo string, layerDigests []string) (result, error) {
	const tag = "v1"
	manifest, err := pushImage(ctx, b.client, repo, tag, layerDigests[:min(manifestLayers, len(layerDigests))], b.cfg.smallSize)
	if err != nil {
		return result{}, err
	}
	requests := b.cfg.requests
	slog.Info("sending manifest GET requests", "repo", repo, "tag", tag, "requests", requests, "clients", b.cfg.clients)

	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	err = runParallel(ctx, b.cfg.clients, requests, func(ctx context.Context, i int) error {
		body, err := b.client.getManifest(ctx, repo, tag)
		if err != nil {
			return err
		}
		if !bytes.Equal(body, manifest) {
			return fmt.Errorf("GET manifest %s:%s returned %d bytes that differ from the %d bytes stored", repo, tag, len(body), len(manifest))
		}
		return nil
	})
	if err != nil {
		return result{}, err
	}
	label := fmt.Sprintf("manifest GET by tag, %d clients, %s requests", b.cfg.clients, formatCount(requests))
	return m.end(label, 0, requests)
}

// pushImage uploads a config blob and stores a manifest that lists it and
// the given layers, which must already be in repo. It returns the manifest bytes.
func pushImage(ctx context.Context, client *registryClient, repo, tag string, layerDigests []string, layerSize int64) ([]byte, error) {
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"rootfs":       map[string]any{"type": "layers", "diff_ids": layerDigests},
	})
	if err != nil {
		return nil, fmt.Errorf("encode image config: %w", err)
	}
	configDigest := bytesDigest(config)
	if err := client.pushBlob(ctx, repo, configDigest, int64(len(config)), bytes.NewReader(config)); err != nil {
		return nil, err
	}

	manifest := imageManifest{
		SchemaVersion: 2,
		MediaType:     ociManifestType,
		Config: descriptor{
			MediaType: "application/vnd.oci.image.config.v1+json",
			Digest:    configDigest,
			Size:      int64(len(config)),
		},
	}
	for _, digest := range layerDigests {
		manifest.Layers = append(manifest.Layers, descriptor{
			MediaType: "application/vnd.oci.image.layer.v1.tar",
			Digest:    digest,
			Size:      layerSize,
		})
	}
	body, err := json.Marshal(manifest)
	if err != nil {
		return nil, fmt.Errorf("encode image manifest: %w", err)
	}
	if err := client.putManifest(ctx, repo, tag, body); err != nil {
		return nil, err
	}
	return body, nil
}
