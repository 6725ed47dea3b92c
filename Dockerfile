# The platform's image: `python -m entrypoints` (API + ingestion) against DATABASE_URL.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies from pyproject.toml alone, in their own layer: editing the code
# does not reinstall them, only changing the dependency list does.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY src ./src
RUN pip install --no-deps . && rm -rf build src/*.egg-info

RUN useradd --system --uid 10001 --create-home --home-dir /home/mdp mdp
USER mdp

# Listen on every interface inside the container; DATA_DIR is only used when
# DATABASE_URL is unset (the embedded server then runs as this user).
ENV HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/home/mdp/data
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('PORT', '8000'), timeout=2)"]

# SIGTERM drains requests, lets the batch in flight commit or roll back, closes the pool, exits 0.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "entrypoints"]
