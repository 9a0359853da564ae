package oci_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// emptyDigest is the digest of "{}", the OCI empty descriptor's content.
const emptyDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

// getManifest returns a table row that fetches a manifest and checks its
// exact bytes, Content-Type and digest headers.
func getManifest(name, path, accept, mediaType string, content []byte, d string) exchange {
	header := map[string]string{}
	if accept != "" {
		header["Accept"] = accept
	}
	return exchange{name: name, method: http.MethodGet, path: path, header: header, status: http.StatusOK, wantBody: content,
		want: map[string]string{"Content-Type": mediaType, "Docker-Content-Digest": d, "Content-Length": strconv.Itoa(len(content))}}
}

func putManifest(name, path, mediaType string, content []byte, status int, code string) exchange {
	return exchange{name: name, method: http.MethodPut, path: path, body: content,
		header: map[string]string{"Content-Type": mediaType}, status: status, code: code}
}

func TestManifestOCIImage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	img := s.pushImage(t, "man/img", "a")
	d := img.digest
	sha512Ref := sha512Digest(img.manifest)
	hex := strings.TrimPrefix(d, "sha256:")
	s.run(t, []exchange{
		{name: "put by tag", method: http.MethodPut, path: "/v2/man/img/manifests/v1", body: img.manifest,
			header: map[string]string{"Content-Type": mediaTypeOCIManifest}, status: http.StatusCreated,
			want: map[string]string{"Location": "/v2/man/img/manifests/" + d, "Docker-Content-Digest": d,
				"OCI-Subject": "", "OCI-Tag": ""}},
		getManifest("get by tag", "/v2/man/img/manifests/v1", mediaTypeOCIManifest, mediaTypeOCIManifest, img.manifest, d),
		getManifest("get by digest", "/v2/man/img/manifests/"+d, "", mediaTypeOCIManifest, img.manifest, d),
		{name: "head", method: http.MethodHead, path: "/v2/man/img/manifests/v1", status: http.StatusOK, wantBody: []byte{},
			want: map[string]string{"Content-Type": mediaTypeOCIManifest, "Docker-Content-Digest": d,
				"Content-Length": strconv.Itoa(len(img.manifest))}},

		getManifest("accept any", "/v2/man/img/manifests/v1", "*/*", mediaTypeOCIManifest, img.manifest, d),
		getManifest("accept a list with parameters", "/v2/man/img/manifests/v1",
			mediaTypeDockerManifest+", "+mediaTypeOCIManifest+";q=0.9", mediaTypeOCIManifest, img.manifest, d),
		{name: "accept without the stored type", method: http.MethodGet, path: "/v2/man/img/manifests/v1",
			header: map[string]string{"Accept": mediaTypeDockerManifest + ", " + mediaTypeDockerList},
			status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "head accept without the stored type", method: http.MethodHead, path: "/v2/man/img/manifests/v1",
			header: map[string]string{"Accept": mediaTypeOCIIndex}, status: http.StatusNotFound},

		{name: "put by digest with tags", method: http.MethodPut, path: "/v2/man/img/manifests/" + d + "?tag=t1&tag=t2",
			body: img.manifest, header: map[string]string{"Content-Type": mediaTypeOCIManifest}, status: http.StatusCreated,
			want: map[string]string{"Location": "/v2/man/img/manifests/" + d, "Docker-Content-Digest": d, "OCI-Tag": "t1, t2"}},
		getManifest("get extra tag", "/v2/man/img/manifests/t2", "", mediaTypeOCIManifest, img.manifest, d),
		{name: "tags", method: http.MethodGet, path: "/v2/man/img/tags/list", status: http.StatusOK,
			wantBody: []byte(`{"name":"man/img","tags":["t1","t2","v1"]}`)},

		{name: "put by sha512 digest", method: http.MethodPut, path: "/v2/man/img/manifests/" + sha512Ref, body: img.manifest,
			header: map[string]string{"Content-Type": mediaTypeOCIManifest}, status: http.StatusCreated,
			want: map[string]string{"Location": "/v2/man/img/manifests/" + sha512Ref, "Docker-Content-Digest": sha512Ref}},
		getManifest("get by sha512 digest", "/v2/man/img/manifests/"+sha512Ref, "", mediaTypeOCIManifest, img.manifest, sha512Ref),

		{name: "put a tag that looks like a digest", method: http.MethodPut, path: "/v2/man/img/manifests/sha256-" + hex,
			body: img.manifest, header: map[string]string{"Content-Type": mediaTypeOCIManifest}, status: http.StatusCreated,
			want: map[string]string{"Docker-Content-Digest": d}},
		getManifest("get a tag that looks like a digest", "/v2/man/img/manifests/sha256-"+hex, "", mediaTypeOCIManifest, img.manifest, d),

		{name: "unknown tag", method: http.MethodGet, path: "/v2/man/img/manifests/nope", status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "unknown digest", method: http.MethodGet, path: "/v2/man/img/manifests/" + sha256Digest([]byte("nope")),
			status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "malformed digest", method: http.MethodGet, path: "/v2/man/img/manifests/sha256:abc",
			status: http.StatusBadRequest, code: "DIGEST_INVALID"},
		{name: "unsupported algorithm", method: http.MethodGet, path: "/v2/man/img/manifests/md5:5d41402abc4b2a76b9719d911017c592",
			status: http.StatusBadRequest, code: "DIGEST_INVALID"},
	})
}

func TestManifestIndexAndDockerTypes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	amd := s.pushImage(t, "man/multi", "amd64")
	arm := s.pushImage(t, "man/multi", "arm64")
	s.pushManifest(t, "man/multi", amd.digest, mediaTypeOCIManifest, amd.manifest)
	s.pushManifest(t, "man/multi", arm.digest, mediaTypeOCIManifest, arm.manifest)
	platform := func(arch string, manifest []byte) map[string]any {
		return map[string]any{"mediaType": mediaTypeOCIManifest, "digest": sha256Digest(manifest), "size": len(manifest),
			"platform": map[string]string{"architecture": arch, "os": "linux"}}
	}
	index := marshal(t, map[string]any{"schemaVersion": 2, "mediaType": mediaTypeOCIIndex,
		"manifests": []any{platform("amd64", amd.manifest), platform("arm64", arm.manifest)}})
	missingChild := marshal(t, map[string]any{"schemaVersion": 2, "mediaType": mediaTypeOCIIndex,
		"manifests": []any{platform("amd64", amd.manifest), platform("s390x", []byte("not pushed"))}})

	dockerConfig := []byte(`{"architecture":"amd64","os":"linux","docker":true}`)
	dockerLayer := []byte("docker layer")
	s.pushBlob(t, "man/multi", dockerConfig)
	s.pushBlob(t, "man/multi", dockerLayer)
	docker := marshal(t, map[string]any{"schemaVersion": 2, "mediaType": mediaTypeDockerManifest,
		"config": describe(mediaTypeDockerConfig, dockerConfig), "layers": []descriptor{describe(mediaTypeDockerLayer, dockerLayer)}})
	dockerList := marshal(t, map[string]any{"schemaVersion": 2, "mediaType": mediaTypeDockerList,
		"manifests": []any{map[string]any{"mediaType": mediaTypeDockerManifest, "digest": sha256Digest(docker), "size": len(docker),
			"platform": map[string]string{"architecture": "amd64", "os": "linux"}}}})

	s.run(t, []exchange{
		putManifest("put index", "/v2/man/multi/manifests/multi", mediaTypeOCIIndex, index, http.StatusCreated, ""),
		getManifest("get index", "/v2/man/multi/manifests/multi", mediaTypeOCIIndex+", "+mediaTypeOCIManifest,
			mediaTypeOCIIndex, index, sha256Digest(index)),
		{name: "index not accepted", method: http.MethodGet, path: "/v2/man/multi/manifests/multi",
			header: map[string]string{"Accept": mediaTypeOCIManifest}, status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		putManifest("index with a missing child", "/v2/man/multi/manifests/broken", mediaTypeOCIIndex, missingChild,
			http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"),
		{name: "index with a missing child not stored", method: http.MethodGet, path: "/v2/man/multi/manifests/" + sha256Digest(missingChild),
			status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "its tag not stored", method: http.MethodGet, path: "/v2/man/multi/manifests/broken",
			status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},

		putManifest("put docker manifest", "/v2/man/multi/manifests/docker", mediaTypeDockerManifest, docker, http.StatusCreated, ""),
		getManifest("get docker manifest", "/v2/man/multi/manifests/docker", mediaTypeDockerManifest,
			mediaTypeDockerManifest, docker, sha256Digest(docker)),
		putManifest("put docker manifest list", "/v2/man/multi/manifests/dockerlist", mediaTypeDockerList, dockerList, http.StatusCreated, ""),
		getManifest("get docker manifest list", "/v2/man/multi/manifests/dockerlist", "",
			mediaTypeDockerList, dockerList, sha256Digest(dockerList)),
		{name: "tags", method: http.MethodGet, path: "/v2/man/multi/tags/list", status: http.StatusOK,
			wantBody: []byte(`{"name":"man/multi","tags":["docker","dockerlist","multi"]}`)},
	})
}

func TestManifestArtifactWithEmptyConfig(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	if got := s.pushBlob(t, "man/art", []byte("{}")); got != emptyDigest {
		t.Fatalf("digest of {} = %s, want %s", got, emptyDigest)
	}
	sbom := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	s.pushBlob(t, "man/art", sbom)
	artifact := marshal(t, map[string]any{
		"schemaVersion": 2, "mediaType": mediaTypeOCIManifest, "artifactType": "application/spdx+json",
		"config": descriptor{MediaType: mediaTypeEmpty, Digest: emptyDigest, Size: 2},
		"layers": []descriptor{describe("application/spdx+json", sbom)},
	})
	d := sha256Digest(artifact)
	s.run(t, []exchange{
		putManifest("put by digest", "/v2/man/art/manifests/"+d, mediaTypeOCIManifest, artifact, http.StatusCreated, ""),
		getManifest("get", "/v2/man/art/manifests/"+d, "", mediaTypeOCIManifest, artifact, d),
		{name: "empty config readable", method: http.MethodGet, path: "/v2/man/art/blobs/" + emptyDigest, status: http.StatusOK,
			wantBody: []byte("{}")},
	})
}

func TestManifestRejected(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	config := []byte(`{"rejected":true}`)
	layer := []byte("never pushed layer")
	manifest := func(mediaType string, extra map[string]any) []byte {
		doc := map[string]any{"schemaVersion": 2, "config": describe(mediaTypeOCIConfig, config),
			"layers": []descriptor{describe(mediaTypeOCILayer, layer)}}
		if mediaType != "" {
			doc["mediaType"] = mediaType
		}
		for key, value := range extra {
			doc[key] = value
		}
		return marshal(t, doc)
	}
	missing := manifest(mediaTypeOCIManifest, nil)
	// Go's encoding/json would read the last, differently cased "Layers"
	// and never check the missing layer that other clients pull.
	shadowed := append(missing[:len(missing)-1:len(missing)-1], `,"Layers":[]}`...)

	// Nothing is pushed to man/none, so it must stay absent.
	s.run(t, []exchange{
		putManifest("missing config and layer", "/v2/man/none/manifests/v1", mediaTypeOCIManifest, missing,
			http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"),
		putManifest("invalid JSON", "/v2/man/none/manifests/v1", mediaTypeOCIManifest, []byte(`{"schemaVersion":2,`),
			http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("not an object", "/v2/man/none/manifests/v1", mediaTypeOCIManifest, []byte(`[]`),
			http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("invalid tag", "/v2/man/none/manifests/.v1", mediaTypeOCIManifest, missing,
			http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("tag of 129 characters", "/v2/man/none/manifests/"+strings.Repeat("t", 129), mediaTypeOCIManifest, missing,
			http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("invalid tag parameter", "/v2/man/none/manifests/"+sha256Digest(missing)+"?tag=ok&tag=-bad", mediaTypeOCIManifest,
			missing, http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("digest of other content", "/v2/man/none/manifests/"+sha256Digest([]byte("x")), mediaTypeOCIManifest, missing,
			http.StatusBadRequest, "DIGEST_INVALID"),
	})
	s.checkNoRepository(t, "man/none")

	s.pushBlob(t, "man/bad", config)
	s.run(t, []exchange{
		putManifest("missing layer", "/v2/man/bad/manifests/v1", mediaTypeOCIManifest, missing,
			http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN"),
		putManifest("Content-Type disagrees with mediaType", "/v2/man/bad/manifests/v1", mediaTypeDockerManifest,
			manifest(mediaTypeOCIManifest, nil), http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("unsupported media type", "/v2/man/bad/manifests/v1", "application/json",
			manifest("", nil), http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("no media type at all", "/v2/man/bad/manifests/v1", "",
			manifest("", nil), http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("schema version 1", "/v2/man/bad/manifests/v1", mediaTypeOCIManifest,
			manifest(mediaTypeOCIManifest, map[string]any{"schemaVersion": 1}), http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("image without config", "/v2/man/bad/manifests/v1", mediaTypeOCIManifest,
			manifest(mediaTypeOCIManifest, map[string]any{"config": nil}), http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("malformed layer digest", "/v2/man/bad/manifests/v1", mediaTypeOCIManifest,
			manifest(mediaTypeOCIManifest, map[string]any{"layers": []descriptor{{MediaType: mediaTypeOCILayer, Digest: "sha256:abc", Size: 1}}}),
			http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("layers repeated in another case", "/v2/man/bad/manifests/v1", mediaTypeOCIManifest,
			shadowed, http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("config size differs from the stored blob", "/v2/man/bad/manifests/v1", mediaTypeOCIManifest,
			manifest(mediaTypeOCIManifest, map[string]any{
				"config": descriptor{MediaType: mediaTypeOCIConfig, Digest: sha256Digest(config), Size: int64(len(config)) + 1},
				"layers": []descriptor{},
			}),
			http.StatusBadRequest, "MANIFEST_INVALID"),
		putManifest("index with layers", "/v2/man/bad/manifests/v1", mediaTypeOCIIndex,
			manifest(mediaTypeOCIIndex, map[string]any{"manifests": []descriptor{}}), http.StatusBadRequest, "MANIFEST_INVALID"),
		{name: "nothing tagged", method: http.MethodGet, path: "/v2/man/bad/tags/list", status: http.StatusOK,
			wantBody: []byte(`{"name":"man/bad","tags":[]}`)},
		{name: "missing-layer manifest not stored", method: http.MethodHead, path: "/v2/man/bad/manifests/" + sha256Digest(missing),
			status: http.StatusNotFound},
	})
}

func TestManifestSizeLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	img := s.pushImage(t, "man/size", "size")
	// padded returns the image manifest with an annotation that makes it
	// exactly size bytes long.
	padded := func(size int) []byte {
		doc := func(pad string) []byte {
			return marshal(t, map[string]any{"schemaVersion": 2, "mediaType": mediaTypeOCIManifest,
				"config": describe(mediaTypeOCIConfig, img.config), "layers": []descriptor{describe(mediaTypeOCILayer, img.layer)},
				"annotations": map[string]string{"pad": pad}})
		}
		return doc(strings.Repeat("p", size-len(doc(""))))
	}
	atLimit := padded(testMaxManifestBytes)
	overLimit := padded(testMaxManifestBytes + 1)
	s.run(t, []exchange{
		putManifest("exactly the limit", "/v2/man/size/manifests/limit", mediaTypeOCIManifest, atLimit, http.StatusCreated, ""),
		getManifest("get at the limit", "/v2/man/size/manifests/limit", "", mediaTypeOCIManifest, atLimit, sha256Digest(atLimit)),
		putManifest("one byte over", "/v2/man/size/manifests/over", mediaTypeOCIManifest, overLimit,
			http.StatusRequestEntityTooLarge, "SIZE_INVALID"),
		{name: "over not stored", method: http.MethodHead, path: "/v2/man/size/manifests/" + sha256Digest(overLimit),
			status: http.StatusNotFound},
		{name: "tags", method: http.MethodGet, path: "/v2/man/size/tags/list", status: http.StatusOK,
			wantBody: []byte(`{"name":"man/size","tags":["limit"]}`)},
	})
}

func TestManifestDelete(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	img := s.pushImage(t, "man/del", "del")
	d := s.pushManifest(t, "man/del", img.digest+"?tag=a&tag=b", mediaTypeOCIManifest, img.manifest)
	other := s.pushImage(t, "man/del", "other")
	s.pushManifest(t, "man/del", "c", mediaTypeOCIManifest, other.manifest)
	s.run(t, []exchange{
		{name: "delete tag", method: http.MethodDelete, path: "/v2/man/del/manifests/a", status: http.StatusAccepted},
		{name: "tag gone", method: http.MethodGet, path: "/v2/man/del/manifests/a", status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "manifest kept", method: http.MethodGet, path: "/v2/man/del/manifests/" + d, status: http.StatusOK, wantBody: img.manifest},
		{name: "other tag kept", method: http.MethodGet, path: "/v2/man/del/manifests/b", status: http.StatusOK, wantBody: img.manifest},
		{name: "delete tag again", method: http.MethodDelete, path: "/v2/man/del/manifests/a", status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},

		{name: "delete by digest", method: http.MethodDelete, path: "/v2/man/del/manifests/" + d, status: http.StatusAccepted},
		{name: "digest gone", method: http.MethodGet, path: "/v2/man/del/manifests/" + d, status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "its tags gone", method: http.MethodGet, path: "/v2/man/del/manifests/b", status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "tag list", method: http.MethodGet, path: "/v2/man/del/tags/list", status: http.StatusOK,
			wantBody: []byte(`{"name":"man/del","tags":["c"]}`)},
		{name: "layers kept", method: http.MethodGet, path: "/v2/man/del/blobs/" + sha256Digest(img.layer), status: http.StatusOK,
			wantBody: img.layer},
		{name: "delete by digest again", method: http.MethodDelete, path: "/v2/man/del/manifests/" + d,
			status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
		{name: "delete in unknown repository", method: http.MethodDelete, path: "/v2/man/none/manifests/" + d,
			status: http.StatusNotFound, code: "MANIFEST_UNKNOWN"},
	})
	s.checkNoRepository(t, "man/none")
}
