# One image for every Homesafe service; docker-compose.yml picks the subcommand.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
# /mosquitto/auth: where the broker-config service writes Mosquitto's passwd and acl, as the
# eclipse-mosquitto image's uid 1883 so the broker can read them.
RUN pip install . \
 && install -m 0755 scripts/docker/healthcheck.py /usr/local/bin/homesafe-healthcheck \
 && useradd --system --uid 10001 --home-dir /app homesafe \
 && mkdir -p /app/var \
 && chown homesafe /app/var \
 && mkdir -p /mosquitto/auth \
 && chown 1883:1883 /mosquitto/auth

USER homesafe
EXPOSE 8000
ENTRYPOINT ["homesafe"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
