# syntax=docker/dockerfile:1

# Base images, pinned by digest so that a build is reproducible and a moved
# tag cannot change what is shipped.
#
# PROVENANCE OF THE DIGESTS: no container registry can be reached where
# certinel is developed, so these digests were NOT verified against the
# registries. Each is the digest that at least two unrelated public
# repositories pin for the same tag (golang:1.26 as a multi-platform build
# stage, gcr.io/distroless/static:nonroot as a runtime). Before a release,
# check them and take the current ones:
#   docker buildx imagetools inspect golang:1.26
#   docker buildx imagetools inspect gcr.io/distroless/static:nonroot
# and override without editing this file with
#   --build-arg GO_IMAGE=golang:1.26@sha256:... --build-arg BASE_IMAGE=...
# A digest that does not exist makes the build fail; it cannot silently pull
# something else.
ARG GO_IMAGE=golang:1.26@sha256:3aff6657219a4d9c14e27fb1d8976c49c29fddb70ba835014f477e1c70636647
ARG BASE_IMAGE=gcr.io/distroless/static:nonroot@sha256:f7f8f729987ad0fdf6b05eeeae94b26e6a0f613bdf46feea7fc40f7bd72953e6

# Build stage: a static, stripped certinel binary, on the builder's own
# platform (Go cross-compiles without emulation).
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build

# Set with --build-arg VERSION=v0.1.0; printed by `certinel version`.
ARG VERSION=dev
# Set by buildx for multi-platform builds; empty means the builder's platform.
ARG TARGETOS
ARG TARGETARCH

WORKDIR /src

# Modules first, so that this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

# Only the packages the binary is built from.
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY pkg/ pkg/

# CGO_ENABLED=0: a static binary that needs no libc (distroless static has
# none). -trimpath: no build paths in the binary. -s -w: no symbol table.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /certinel ./cmd/certinel

# Final stage: no shell, no package manager, no libc, non-root.
FROM ${BASE_IMAGE}

COPY --from=build /certinel /certinel

# The distroless "nonroot" user, numeric so that runAsNonRoot can verify it.
USER 65532:65532

ENTRYPOINT ["/certinel"]
