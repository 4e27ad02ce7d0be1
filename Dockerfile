# The bot as a container: `zhupei` is the entry point (`run` by default; `db upgrade`,
# `keys rotate`, … as the command). Build: docker build -t zhupei .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The CJK font for PDFs and charts also comes with the pinned wheel (bot/fonts.py); the system
# package is the fallback matplotlib finds through fontconfig.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin zhupei

WORKDIR /app
COPY pyproject.toml requirements.lock README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY scheduler ./scheduler
COPY reference ./reference
COPY storage ./storage
COPY workflow ./workflow

# The migrations and the font travel inside the package: fail the build if either is missing.
RUN pip install -c requirements.lock . \
    && python -c "from storage import migrate; print('migrations up to', migrate.head_revision())" \
    && python -c "from bot.fonts import CJK_FONT_PATH; assert CJK_FONT_PATH.is_file()" \
    && mkdir -p /data \
    && chown zhupei:zhupei /data

# DATA_DIR holds uploaded documents (shared by every instance) and, without ENCRYPTION_KEY or
# KEY_FILE, the generated key file.
ENV DATA_DIR=/data \
    LOG_FORMAT=json \
    OPS_HOST=0.0.0.0 \
    WEBHOOK_PORT=8080
VOLUME ["/data"]
EXPOSE 8080

USER zhupei
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
ENTRYPOINT ["zhupei"]
CMD ["run"]
