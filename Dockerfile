# TuyaBot: one image for indexing, the CLI and the chat adapters.
#   docker build -t tuyabot .
#   docker run --rm -v tuyabot-data:/data tuyabot index
#   docker run -d --env-file .env -v tuyabot-data:/data tuyabot serve   # every configured platform
# docker-compose.yml runs it with a Qdrant server and PostgreSQL.
# Webhook / Slack HTTP mode in a container: set TELEGRAM_WEBHOOK_LISTEN or SLACK_HTTP_HOST to 0.0.0.0 and publish the port.
# CPU build of torch by default; pass --build-arg TORCH_INDEX_URL=<a CUDA wheel index> for a GPU image.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    TUYABOT_DATA_DIR=/data

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==2.13.0"

WORKDIR /app
# The exact versions .ci/install installs and CI tests (requirements.lock, made by .ci/lock), in their own layer.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY tuyabot ./tuyabot
COPY bot ./bot
COPY rag ./rag
COPY scraper ./scraper
COPY storage ./storage
RUN pip install --no-deps ".[postgres]" && useradd --create-home --uid 1000 tuyabot && mkdir -p /data \
    && chown tuyabot /data

USER tuyabot
VOLUME ["/data"]
ENTRYPOINT ["tuyabot"]
CMD ["--help"]
