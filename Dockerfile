# syntax=docker/dockerfile:1
# The base is pinned to an exact patch release. Its digest could not be looked up where this file
# was written (no registry access); to pin it: docker buildx imagetools inspect python:3.11.14-slim-bookworm
# and append @sha256:<digest> to both FROM lines (tests/test_image.py accepts either form).
# Build stage: the install CI runs (the hashed lock, then this project without dependencies),
# into a venv we copy.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN /opt/venv/bin/pip install --no-deps .

# Runtime stage: no compilers, no pip cache, a non-root user, state on a volume.
FROM python:3.11.14-slim-bookworm
LABEL org.opencontainers.image.title="source-monitor" \
      org.opencontainers.image.description="Watches feeds, pages and cited sources; delivers topic digests" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MONITOR_CONFIG=/app/config.toml
RUN groupadd --system --gid 10001 monitor && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin monitor
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY config.toml ./
COPY seeds ./seeds
RUN mkdir -p /app/state && chown monitor:monitor /app/state
USER 10001:10001
VOLUME ["/app/state"]
EXPOSE 9464
# Probes /healthz on the port config.toml (or MONITOR_WEB__PORT) gives the status server.
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-m", "monitor.healthcheck"]
ENTRYPOINT ["dumb-init", "--"]
CMD ["monitor", "run"]
