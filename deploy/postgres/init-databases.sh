#!/bin/bash
# Runs once, when the postgres container initialises its data directory: one role per
# service (a login, not a superuser, password from the environment) owning one database;
# nobody else may connect to it (PUBLIC's CONNECT is revoked). The services create their own
# tables, as their own roles.
set -euo pipefail
create() {
  local role=$1 database=$2 password=$3
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v role="$role" -v database="$database" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
CREATE DATABASE :"database" OWNER :"role";
REVOKE CONNECT ON DATABASE :"database" FROM PUBLIC;
SQL
}
create order_service orders "${ORDER_SERVICE_DB_PASSWORD:?}"
create customer_service customers "${CUSTOMER_SERVICE_DB_PASSWORD:?}"
create invoice_service invoices "${INVOICE_SERVICE_DB_PASSWORD:?}"
create catalog_service catalog "${CATALOG_SERVICE_DB_PASSWORD:?}"
# The auditor (`mercato audit`, the CronJob in deploy/k8s): reads every database, writes none.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v password="${AUDITOR_DB_PASSWORD:?}" <<'SQL'
CREATE ROLE mercato_auditor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
GRANT pg_read_all_data TO mercato_auditor;
GRANT CONNECT ON DATABASE orders TO mercato_auditor;
GRANT CONNECT ON DATABASE customers TO mercato_auditor;
GRANT CONNECT ON DATABASE invoices TO mercato_auditor;
GRANT CONNECT ON DATABASE catalog TO mercato_auditor;
SQL
