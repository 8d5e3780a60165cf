# The portal's image. The frontend is built once here; the runtime serves that build with granian as a non-root
# user, with no Node or bun in it. One image for every role: `web` (default), `jobs` and `migrate` (compose.yaml).
#
#   docker build -t portal .                                   # official Python base from a registry
#   docker build --build-arg BASE=local/debian:bookworm -t portal .   # any Debian/Ubuntu base with python3 and venv
#
# API_URL is where browsers reach the portal (the websocket and uploads go there): the public URL behind the edge.
# EXTRA_CA_CERTS (PEM text) lets the build trust a TLS-inspecting proxy between it and the package registries.

ARG BASE=python:3.12-slim-bookworm

FROM ${BASE} AS build
ARG API_URL=http://localhost:3000
ARG EXTRA_CA_CERTS=""
ARG BUN_VERSION=1.4.4
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore \
    REFLEX_CHECK_LATEST_VERSION=0 REFLEX_TELEMETRY_ENABLED=false DEBIAN_FRONTEND=noninteractive
RUN set -eu; \
    need=""; \
    command -v npm >/dev/null || need="$need nodejs npm"; \
    python3 -c "import ensurepip" 2>/dev/null || need="$need python3-venv"; \
    [ -e /etc/ssl/certs/ca-certificates.crt ] || need="$need ca-certificates"; \
    if [ -n "$need" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $need \
        && rm -rf /var/lib/apt/lists/*; fi; \
    if [ -n "$EXTRA_CA_CERTS" ]; then \
        printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt && update-ca-certificates; \
    fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /app
RUN python3 -m venv /venv && /venv/bin/pip install --quiet --upgrade pip
COPY pyproject.toml ./
COPY services ./services
COPY portal ./portal
RUN /venv/bin/pip install --quiet .
# bun through npm (Reflex builds with bun alone; Node is needed only to install it, and not at run time)
RUN npm install --silent --no-audit --no-fund --prefix /tools "bun@${BUN_VERSION}" && /tools/node_modules/.bin/bun --version
COPY rxconfig.py alembic.ini ./
COPY alembic ./alembic
COPY assets ./assets
COPY reflex.lock ./reflex.lock
RUN PATH="/tools/node_modules/.bin:/venv/bin:$PATH" REFLEX_API_URL="$API_URL" VAR_DIR=/tmp/build-var \
    reflex export --frontend-only --no-zip \
    && test -f .web/build/client/index.html \
    && rm -rf .web/node_modules /tmp/build-var

FROM ${BASE} AS runtime
RUN groupadd --system --gid 10001 portal && useradd --system --uid 10001 --gid portal --home-dir /app portal \
    && mkdir -p /var/lib/portal && chown portal:portal /var/lib/portal
COPY --from=build /venv /venv
COPY --from=build --chown=portal:portal /app /app
WORKDIR /app
USER portal
ENV PATH=/venv/bin:$PATH VAR_DIR=/var/lib/portal PORT=3000 ENVIRONMENT=production \
    REFLEX_CHECK_LATEST_VERSION=0 REFLEX_TELEMETRY_ENABLED=false PYTHONUNBUFFERED=1
EXPOSE 3000
VOLUME ["/var/lib/portal"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/api/health\"; sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
ENTRYPOINT ["python", "-m", "portal.container"]
CMD ["web"]
