# Production image: migrations, then uvicorn with one worker per core.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VOCATION_DATABASE_URL=sqlite:////srv/vocation/var/vocation.db \
    WEB_CONCURRENCY=2

WORKDIR /srv/vocation
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY app ./app
RUN pip install -c constraints.txt .

COPY alembic.ini ./
COPY migrations ./migrations

RUN useradd --system --uid 10001 --home-dir /srv/vocation vocation \
    && mkdir -p var && chown vocation:vocation var
USER vocation

EXPOSE 8000
CMD ["sh", "-c", "vocation migrate && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY} --proxy-headers"]
