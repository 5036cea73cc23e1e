# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image (OpenSSL is vendored: only perl and make are needed,
# both present there), run as a non-root user on a slim Debian base.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src/bin benches && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > src/bin/merchant-sim.rs \
    && echo '' > src/lib.rs && echo 'fn main() {}' > benches/envelope.rs \
    && cargo build --release --locked --bins 2>/dev/null || true
COPY . .
RUN touch src/main.rs src/lib.rs src/bin/merchant-sim.rs && cargo build --release --locked --bins

FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin gateway
WORKDIR /app
COPY --from=builder /src/target/release/card-gateway /src/target/release/merchant-sim /usr/local/bin/
COPY config/default.toml /app/config/default.toml
USER 10001
# Production by default: start-up refuses the simulator, memory stores and development keys, so the
# deployment must provide CARD_GATEWAY__UPSTREAM__BASE_URL, keys, Redis and JWKS (see README).
ENV CARD_GATEWAY__ENVIRONMENT=production \
    CARD_GATEWAY__SERVER__LISTEN=0.0.0.0:8080 \
    CARD_GATEWAY__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/card-gateway", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/card-gateway"]
CMD ["serve"]
