#!/bin/bash
# Runs once, when the postgres container initialises its data directory: one database per
# service, each owned by the application user (the services create their own tables).
set -euo pipefail
for database in orders customers invoices; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -c "CREATE DATABASE $database OWNER \"$POSTGRES_USER\""
done
