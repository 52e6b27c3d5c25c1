# syntax=docker/dockerfile:1
# audioclf API + browser app on the CPU. Build: `docker build -t audioclf .`
# Run folders are mounted read-only at /models (one sub-folder per model); see docs/deploy.md.

# pinned by digest (the multi-platform index of python:3.11-slim-bookworm, Python 3.11.16,
# as docker-library/repo-info lists it on 2026-08-25); update as for Caddy in docker-compose.yml
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:fe556eaffd0d96abd8685b83bb8a69addd0dc730fa193669a7df0d49ddcfac02
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
# the package's extras; deploy/ray/docker-compose.yml builds with smile,voice,ray
ARG EXTRAS=smile,voice

# ---- web: onnxruntime-web for the browser app's on-device mode, from the npm lock file ----
# Debian's node and npm in a throwaway stage (from the same pinned image); only the files
# web/vendor.mjs picks reach the build stage, nothing of node does.
FROM ${PYTHON_IMAGE} AS web
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /web
COPY web/package.json web/package-lock.json web/vendor.mjs web/LICENSE-onnxruntime-web.txt ./
RUN npm ci --ignore-scripts --no-audit --no-fund && node vendor.mjs /vendor

# ---- build: a virtualenv with the CPU-only torch wheel and the package ----
FROM ${PYTHON_IMAGE} AS build
ARG TORCH_INDEX
ARG EXTRAS
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# a C compiler for webrtcvad (a dependency of resemblyzer, the `voice` extra), which PyPI
# has only as source; the runtime stage copies the built virtualenv, not the compiler
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
# the +cpu wheel: no CUDA libraries in the image
RUN pip install --extra-index-url "${TORCH_INDEX}" "torch==2.13.0+cpu"
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# the browser app's vendored runtime, shipped in the wheel (pyproject's package-data)
COPY --from=web /vendor ./src/audioclf/service/web/vendor
RUN pip install --extra-index-url "${TORCH_INDEX}" ".[${EXTRAS}]" \
    && python -c "import torch; assert not torch.cuda.is_available(); print(torch.__version__)"

# ---- runtime: the virtualenv only, run by a non-root user ----
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib \
    NUMBA_CACHE_DIR=/tmp/numba \
    AUDIOCLF_CACHE=/tmp/audioclf-cache \
    OMP_NUM_THREADS=1
RUN groupadd --system --gid 10001 audioclf \
    && useradd --system --uid 10001 --gid audioclf --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin audioclf \
    && mkdir /models
COPY --from=build /opt/venv /opt/venv
USER audioclf:audioclf
WORKDIR /tmp
VOLUME ["/models"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# shell form only to expand the glob; exec hands PID 1 to audioclf so signals reach it.
# --proxy-headers: client addresses (for rate limits) come from the reverse proxy; which
# proxies are trusted is set by FORWARDED_ALLOW_IPS (docker-compose.yml sets it).
CMD ["sh", "-c", "exec audioclf serve /models/* --host 0.0.0.0 --port 8000 --workers 2 --proxy-headers"]
