# syntax=docker/dockerfile:1.7
# One image for every `next-image` command: operator, gateway, optimizer, render, crd.
#
#   docker build -t next-image:dev .
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/next-image:<tag> .
#   docker run --rm next-image:dev --help
#
# The image holds exactly what `npm pack` ships (package.json "files") installed with
# `npm ci --omit=dev`, the same steps test/package/production-install.test.ts runs.
# Runtime: distroless Node 24, uid 65532, nothing written outside /tmp, so it runs with
# readOnlyRootFilesystem: true (mount an emptyDir on /tmp, and a volume for filesystem
# storage).

ARG NODE_VERSION=24
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs${NODE_VERSION}-debian12:nonroot

# --- build: compile TypeScript to dist/ and pack the package (platform independent) ---
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Dev dependencies are needed for tsc; scripts are skipped (the `node` devDependency
# would download a second Node). `npm install` rather than `npm ci`: this stage only
# compiles, and it tolerates a lock without other platforms' optional dev binaries.
RUN --mount=type=cache,target=/root/.npm npm install --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && mkdir -p /out && npm pack --pack-destination /out && \
    mkdir /out/package && tar -xzf /out/*.tgz -C /out --no-same-owner && \
    cp package-lock.json /out/package/

# --- deps: production dependencies for the *target* platform --------------------------
# Runs on the build platform and asks npm for the target's optional packages, so sharp
# gets its prebuilt libvips (@img/sharp-linux-x64 or @img/sharp-linux-arm64, glibc)
# without emulation. Install scripts are skipped: sharp's only checks for a prebuilt
# binary, which is present.
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS deps
ARG TARGETARCH
WORKDIR /app
COPY --from=build /out/package/ ./
RUN --mount=type=cache,target=/root/.npm \
    case "$TARGETARCH" in \
      amd64) CPU=x64 ;; arm64) CPU=arm64 ;; \
      *) echo "unsupported TARGETARCH '$TARGETARCH' (linux/amd64 and linux/arm64 are)" >&2; exit 1 ;; \
    esac && \
    npm pkg delete devDependencies && \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --os=linux --cpu="$CPU" --libc=glibc && \
    test -d "node_modules/@img/sharp-linux-$CPU" && test -d "node_modules/@img/sharp-libvips-linux-$CPU" && \
    rm -f package-lock.json && rm -rf /root/.npm/_logs

# --- runtime ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="next-image" \
      org.opencontainers.image.description="Next.js /_next/image as a dedicated, Kubernetes-native service: optimizer, gateway and operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/next-image-operator/next-image-operator"
WORKDIR /app
COPY --from=deps --chown=0:0 /app/ /app/
ENV NODE_ENV=production
# distroless :nonroot is uid/gid 65532; numeric so runAsNonRoot can verify it.
USER 65532:65532
# optimizer and gateway default to 3000/3042 (overridable); the operator's metrics and
# probes are configured by its flags.
EXPOSE 3000 3042 8080 8081
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/next-image.js"]
CMD ["--help"]
