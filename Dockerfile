# MediaNest: the bot and the download worker share this image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 1000 medianest \
    && useradd --system --uid 1000 --gid medianest --home-dir /app --shell /usr/sbin/nologin medianest

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY workers ./workers
COPY migrations ./migrations
RUN pip install . && mkdir -p /downloads && chown medianest:medianest /downloads

USER medianest
ENV DOWNLOAD_ROOT=/downloads WEB_HOST=0.0.0.0 WEB_PORT=8080 MPLCONFIGDIR=/tmp/matplotlib
EXPOSE 8080
VOLUME ["/downloads"]

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

CMD ["medianest", "run"]
