# Production image: `vocation serve`, one worker per core, with the header and body bounds.
#
#   docker build -t vocation .
#   docker volume create vocation-data
#   docker run --rm -v vocation-data:/srv/vocation/var vocation vocation migrate   # once per release
#   docker run -d -p 8000:8000 -v vocation-data:/srv/vocation/var vocation
#
# Migrations are their own command, run once before the new replicas start: replicas that
# migrated at start-up would race each other on the schema.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    VOCATION_HOME=/srv/vocation/var \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VOCATION_DATABASE_URL=sqlite:////srv/vocation/var/vocation.db
# Addresses or networks (CIDR, comma-separated) of the reverse proxies whose
# X-Forwarded-For is believed. Empty believes no one: list your proxy, or every client
# looks like the proxy to the rate limit and in the log.
ENV VOCATION_TRUSTED_PROXIES=""
# The host names answered (421 otherwise): set VOCATION_PUBLIC_BASE_URL (its host is
# answered, and it alone is written in links) and VOCATION_ALLOWED_HOSTS for any other name;
# the defaults answer only localhost and 127.0.0.1. /healthz and /readyz answer any host.
# WEB_CONCURRENCY (worker processes) is left unset: one per core the container may use.
# Set it when the container gets a CPU quota (--cpus) smaller than its cores.

WORKDIR /srv/vocation
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY app ./app
RUN pip install -c constraints.txt .

COPY alembic.ini ./
COPY migrations ./migrations

RUN useradd --system --uid 10001 --home-dir /srv/vocation vocation \
    && install -d -m 0700 -o vocation -g vocation var
USER vocation
# The SQLite database and local uploads; created owned by vocation, so a new named volume
# is too.
VOLUME ["/srv/vocation/var"]

EXPOSE 8000
# curl is not in the slim image; urlopen fails on any status but 2xx and 3xx.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["vocation", "serve", "--host", "0.0.0.0", "--port", "8000"]
