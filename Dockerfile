# syntax=docker/dockerfile:1
# Multi-stage build. Dependencies and build outputs live in BuildKit cache mounts, so a source edit
# rebuilds only this crate and no step hides a failure. The runtime image is slim Debian with a
# stripped binary, a non-root user and nothing written at run time (read-only root filesystem).
ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
    && mkdir -p /out \
    && cp target/release/card-gateway target/release/merchant-sim /out/ \
    && strip --strip-debug /out/card-gateway /out/merchant-sim

FROM debian:bookworm-slim AS runtime
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="card-gateway" \
      org.opencontainers.image.description="Tenant-scoped REST gateway in front of an RSA-encrypted card-issuing Merchant API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="card-gateway"
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin gateway
WORKDIR /app
COPY --from=builder /out/card-gateway /out/merchant-sim /usr/local/bin/
COPY config/default.toml /app/config/default.toml
USER 10001:10001
# Production by default: start-up refuses the simulator, memory stores and development keys, so the
# deployment must provide CARD_GATEWAY__UPSTREAM__BASE_URL, keys, Redis and JWKS (see README, Deploying).
ENV CARD_GATEWAY__ENVIRONMENT=production \
    CARD_GATEWAY__SERVER__LISTEN=0.0.0.0:8080 \
    CARD_GATEWAY__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/card-gateway", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/card-gateway"]
CMD ["serve"]
