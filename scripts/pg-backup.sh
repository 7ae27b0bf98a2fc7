#!/bin/sh
# Backup and restore of the desk's PostgreSQL database: every schema, the audit chain (events, chain head,
# signed checkpoints) included, with owners and grants (docs/operations.md, "Backup and restore").
#
#   scripts/pg-backup.sh backup  <file>   pg_dump, custom format (compressed); written with mode 600
#   scripts/pg-backup.sh restore <file>   into an EMPTY database (create it first); one transaction: all or
#                                         nothing; the desk's roles must exist (the migrate step makes them)
#
# Where: DATABASE_URL (a superuser, or the owner desk_owner), with pg_dump / pg_restore on this machine; or,
# with BACKUP_COMPOSE=1, inside docker-compose.yml's postgres service (as its superuser, POSTGRES_DB), the
# file staying on this machine. After a restore, verify the audit chain (docs/runbook.md).
set -eu

usage() {
  echo "usage: $0 backup|restore <file>" >&2
  exit 2
}
[ "$#" -eq 2 ] || usage
command="$1"
file="$2"

# Runs a PostgreSQL client tool with the connection, locally or in the compose service.
pg() {
  tool="$1"
  shift
  if [ "${BACKUP_COMPOSE:-}" = 1 ]; then
    docker-compose exec -T postgres sh -c \
      'PGPASSWORD="$POSTGRES_PASSWORD" exec "$0" -h 127.0.0.1 -U postgres -d "${POSTGRES_DB:-trading}" "$@"' \
      "$tool" "$@"
  else
    : "${DATABASE_URL:?set DATABASE_URL (a superuser or the owner), or BACKUP_COMPOSE=1}"
    "$tool" --dbname="$DATABASE_URL" "$@"
  fi
}

case "$command" in
  backup)
    umask 077
    pg pg_dump --format=custom --compress=6 >"$file.partial"
    mv "$file.partial" "$file"
    echo "backup written to $file" >&2
    ;;
  restore)
    [ -s "$file" ] || {
      echo "no backup at $file" >&2
      exit 2
    }
    pg pg_restore --exit-on-error --single-transaction <"$file"
    echo "restored from $file: now verify the audit chain (docs/runbook.md, Verifying the audit log)" >&2
    ;;
  *) usage ;;
esac
