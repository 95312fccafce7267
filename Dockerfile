# stashplex: one process serving Plex and syncing from Stash.
#   docker build -t stashplex .
#   docker run -d -p 7979:7979 -v ./settings.ini:/config/settings.ini:ro -v stashplex-data:/data stashplex
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STASHPLEX_SETTINGS=/config/settings.ini \
    STASHPLEX_MIRROR_DATABASE=/data/stashplex.db \
    STASHPLEX_MIRROR_POSTER_DIR=/data/posters

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY stashplex ./stashplex
COPY migrations ./migrations
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data stashplex \
    && mkdir -p /data /config \
    && chown stashplex /data
# The commented sample; mount your own over it (read-only is fine).
COPY settings.ini /config/settings.ini

USER stashplex
VOLUME ["/data"]
EXPOSE 7979
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:7979/health', timeout=4).status == 200 else 1)"
CMD ["stashplex", "serve"]
