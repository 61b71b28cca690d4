# podsec in a container: a static musl binary in an empty image.
#   docker build -t podsec .
#   docker run --rm -v "$PWD:/work" podsec check --output-format sarif .
# Multi-stage: the toolchain image builds, the final image holds the binary alone (no shell, no libc).
FROM rust:1-slim-bookworm AS builder
ARG TARGET=x86_64-unknown-linux-musl
# Every dependency is pure Rust: the musl target's own C runtime and the image's cc link it statically,
# without musl-tools (checked with a host build: `static-pie linked`).
RUN rustup target add "$TARGET"
WORKDIR /src
COPY . .
# Symbols stripped: the image holds the binary alone.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
RUN cargo build --release --locked --package podsec --bin podsec --target "$TARGET" \
 && cp "target/$TARGET/release/podsec" /podsec

FROM scratch
COPY --from=builder /podsec /usr/local/bin/podsec
# pre-commit's docker hooks override the entry point with `podsec`, found through PATH.
ENV PATH=/usr/local/bin
WORKDIR /work
ENTRYPOINT ["podsec"]
CMD ["--help"]
