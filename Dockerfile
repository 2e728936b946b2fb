# syntax=docker/dockerfile:1
# Build stage: the same install step CI runs (`pip install` of this project), into a venv we copy.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN /opt/venv/bin/pip install .

# Runtime stage: no compilers, no pip cache, a non-root user, state on a volume.
FROM python:3.11-slim-bookworm
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
HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["dumb-init", "--"]
CMD ["monitor", "run"]
