# syntax=docker/dockerfile:1

# Build stage: a static, stripped certinel binary.
FROM golang:1.26 AS build

# Set with --build-arg VERSION=v0.1.0; printed by `certinel version`.
ARG VERSION=dev
# Set by buildx for multi-platform builds; empty means the builder's platform.
ARG TARGETOS
ARG TARGETARCH

WORKDIR /src

# Modules first, so that this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

# Only the packages the binary is built from.
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY pkg/ pkg/

RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /certinel ./cmd/certinel

# Final stage: no shell, no package manager, non-root.
FROM gcr.io/distroless/static:nonroot

COPY --from=build /certinel /certinel

# The distroless "nonroot" user, numeric so that runAsNonRoot can verify it.
USER 65532:65532

ENTRYPOINT ["/certinel"]
