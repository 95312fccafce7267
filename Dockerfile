# stashplex: one process serving Plex and syncing from Stash.
#   docker build -t stashplex .
#   docker run -d --read-only -p 7979:7979 -v ./settings.ini:/config/settings.ini:ro \
#       -v stashplex-data:/data stashplex
# A settings file of the old agent mounted at /app/stashplexagent.config is read first.
# Everything it writes goes to /data (the mirror, posters, temporary files), so the root
# filesystem may be read-only. scripts/docker-smoke builds this image and checks it answers.

# The wheel, built from exactly the files tests/integration/test_packaging.py builds it from,
# then installed non-editable like any user's `pip install`.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py README.md LICENSE ./
COPY stashplex ./stashplex
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
# MALLOC_*: glibc keeps the poster renderer's 0.5-2 MB buffers on the heap for reuse instead
# of mapping and trimming them for every poster (8 MiB and 32 MiB, see scripts/bench_posters.py).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MALLOC_MMAP_THRESHOLD_=8388608 \
    MALLOC_TRIM_THRESHOLD_=33554432 \
    TMPDIR=/data/tmp \
    STASHPLEX_SETTINGS=/app/stashplexagent.config:/config/settings.ini \
    STASHPLEX_MIRROR_DATABASE=/data/stashplex.db \
    STASHPLEX_MIRROR_POSTER_DIR=/data/posters
COPY --from=build /wheels /wheels
# DejaVu Sans draws the title cards of scenes without a cover (accented Latin, Greek, Cyrillic
# and more); without it they fall back to Pillow's ASCII-only font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN pip install /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data stashplex \
    && mkdir -p /data/tmp /config \
    && chown -R stashplex /data
# The commented sample; mount your own over it (read-only is fine).
COPY settings.ini /config/settings.ini

USER stashplex
# The working folder is where anything without a configured place would land (and where
# temporary files go when /data/tmp is missing, e.g. on an empty bind mount).
WORKDIR /data
VOLUME ["/data"]
EXPOSE 7979
# `stashplex health` asks /health on the port the settings name.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["stashplex", "health"]
CMD ["stashplex", "serve"]
