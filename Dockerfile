# One image for every Homesafe service; docker-compose.yml picks the subcommand.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# `homesafe backup/restore`: pg_dump/pg_restore (the client must be at least the server's major
# version) and influxd's portable backup (the binary from the InfluxDB image compose runs).
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/*
COPY --from=influxdb:1.8 /usr/bin/influxd /usr/local/bin/influxd

WORKDIR /app
COPY . /app
# /mosquitto/auth: where the broker-config service writes Mosquitto's passwd and acl, as the
# eclipse-mosquitto image's uid 1883 so the broker can read them.
RUN pip install . \
 && install -m 0755 scripts/docker/healthcheck.py /usr/local/bin/homesafe-healthcheck \
 && useradd --system --uid 10001 --home-dir /app homesafe \
 && mkdir -p /app/var \
 && chown homesafe /app/var \
 && mkdir -p /mosquitto/auth /backups \
 && chown 1883:1883 /mosquitto/auth \
 && chown homesafe /backups

USER homesafe
EXPOSE 8000
ENTRYPOINT ["homesafe"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
