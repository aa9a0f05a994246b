# soapgw: OCPP 1.5/1.6 SOAP central system, served by gunicorn (soapgw serve).
# Build: docker build -t soapgw .
# Run:   docker run -p 8080:8080 -v soapgw-data:/var/lib/soapgw soapgw
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SOAPGW_INSTANCE_PATH=/var/lib/soapgw \
    SOAPGW_DATABASE_URL=sqlite:////var/lib/soapgw/soapgw.db

WORKDIR /app
COPY pyproject.toml setup.cfg README.md ./
COPY soapgw ./soapgw
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /var/lib/soapgw soapgw \
    && mkdir -p /var/lib/soapgw && chown soapgw /var/lib/soapgw

USER soapgw
VOLUME ["/var/lib/soapgw"]
EXPOSE 8080
# Migrates the database, then serves in the foreground; SIGTERM (docker stop) stops it cleanly.
CMD ["soapgw", "serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
