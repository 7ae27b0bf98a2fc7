#!/bin/sh
# Prepares a Vault for the desk (docs/secrets.md), with the vault CLI: enables KV v2 and AppRole, writes
# one least-privilege policy and one AppRole per service (policies/<service>.hcl), loads the secrets, and
# writes each service's AppRole credentials to an env file for the deployment (docker compose passes
# each <SERVICE>_VAULT_ROLE_ID / _SECRET_ID to its service alone). Idempotent: run it again to load new
# secret values (a new KV version: a rotation) or to issue fresh secret ids.
#
# Needs: VAULT_ADDR, and VAULT_TOKEN with the rights to mount engines, write policies and roles (an admin
# or root token: never give it to a service).
# Reads, when set (the same names as the services' environment fallback, .env.example):
#   <SERVICE>_DATABASE_PASSWORD, <SERVICE>_REDIS_PASSWORD   (generated when unset)
#   APPROVAL_WEBHOOK_SECRET                                 (generated when unset)
#   AUDIT_SIGNING_KEY                                       (generated when unset: Ed25519, PKCS#8 DER, base64)
#   SENTRY_DSN                                              (skipped when unset)
#   EXCHANGE_VENUES and EXCHANGE_<VENUE>_API_KEY / _API_SECRET (skipped when unset; never generated)
#   VAULT_KV_MOUNT (secret), VAULT_KV_PREFIX (desk), VAULT_APPROLE_MOUNT (approle)
#   VAULT_CREDENTIALS_FILE (./vault-credentials.env): where the AppRole credentials are written (mode 600)
#   VAULT_TOKEN_TTL (1h), VAULT_TOKEN_MAX_TTL (24h): the services' tokens (renewed, then a fresh login)
# Nothing secret is printed.
set -eu

: "${VAULT_ADDR:?set VAULT_ADDR}"
: "${VAULT_TOKEN:?set VAULT_TOKEN (an admin token)}"
MOUNT="${VAULT_KV_MOUNT:-secret}"
PREFIX="${VAULT_KV_PREFIX:-desk}"
APPROLE="${VAULT_APPROLE_MOUNT:-approle}"
CREDENTIALS_FILE="${VAULT_CREDENTIALS_FILE:-./vault-credentials.env}"
TOKEN_TTL="${VAULT_TOKEN_TTL:-1h}"
TOKEN_MAX_TTL="${VAULT_TOKEN_MAX_TTL:-24h}"
HERE="$(cd "$(dirname "$0")" && pwd)"
SERVICES="gateway agent-analysis risk execution audit"

log() { printf 'vault-init: %s\n' "$*" >&2; }

# The environment prefix of a service's variables: agent-analysis -> AGENT_ANALYSIS.
env_prefix() { printf '%s' "$1" | tr 'a-z-' 'A-Z_'; }

# The value of the variable named $1, or nothing.
value_of() { eval "printf '%s' \"\${$1:-}\""; }

random_secret() { openssl rand -hex 32; }

# Writes key=value pairs to <prefix>/<path> as a new version; values come from stdin as JSON so that they
# never appear on a command line (ps) or in a log.
kv_put_json() {
  vault kv put -mount="$MOUNT" "$PREFIX/$1" - >/dev/null
}

json_pairs() {
  # json_pairs key1 value1 key2 value2 ...: a JSON object; values pass to jq through its environment, not
  # its command line.
  out='{}'
  while [ "$#" -gt 1 ]; do
    out="$(printf '%s' "$out" | K="$1" V="$2" jq -c '. + {(env.K): env.V}')"
    shift 2
  done
  printf '%s\n' "$out"
}

# 1. Engines: KV v2 for the secrets, AppRole for the services' logins.
if vault secrets list -format=json | jq -e --arg m "$MOUNT/" 'has($m)' >/dev/null; then
  log "KV engine at $MOUNT/ already enabled"
else
  vault secrets enable -path="$MOUNT" -version=2 kv >/dev/null
  log "enabled KV v2 at $MOUNT/"
fi
if vault auth list -format=json | jq -e --arg m "$APPROLE/" 'has($m)' >/dev/null; then
  log "AppRole at $APPROLE/ already enabled"
else
  vault auth enable -path="$APPROLE" approle >/dev/null
  log "enabled AppRole at $APPROLE/"
fi

# 2. One policy and one role per service: each reads only its own folder and the shared one.
umask 077
: >"$CREDENTIALS_FILE"
for service in $SERVICES; do
  sed -e "s|__MOUNT__|$MOUNT|g" -e "s|__PREFIX__|$PREFIX|g" "$HERE/policies/$service.hcl" |
    vault policy write "desk-$service" - >/dev/null
  vault write "auth/$APPROLE/role/desk-$service" \
    token_policies="desk-$service" token_ttl="$TOKEN_TTL" token_max_ttl="$TOKEN_MAX_TTL" \
    secret_id_num_uses=0 >/dev/null
  role_id="$(vault read -field=role_id "auth/$APPROLE/role/desk-$service/role-id")"
  secret_id="$(vault write -f -field=secret_id "auth/$APPROLE/role/desk-$service/secret-id")"
  p="$(env_prefix "$service")"
  printf '%s_VAULT_ROLE_ID=%s\n%s_VAULT_SECRET_ID=%s\n' "$p" "$role_id" "$p" "$secret_id" >>"$CREDENTIALS_FILE"
  log "policy and AppRole desk-$service written"
done
log "AppRole credentials written to $CREDENTIALS_FILE (mode 600)"

# 3. The secrets. Database and Redis passwords per service.
for service in $SERVICES; do
  p="$(env_prefix "$service")"
  db="$(value_of "${p}_DATABASE_PASSWORD")"
  redis="$(value_of "${p}_REDIS_PASSWORD")"
  json_pairs password "${db:-$(random_secret)}" | kv_put_json "$service/database"
  json_pairs password "${redis:-$(random_secret)}" | kv_put_json "$service/redis"
done
log "database and Redis passwords loaded (set the same ones on the database roles and Redis users)"

webhook="${APPROVAL_WEBHOOK_SECRET:-}"
json_pairs secret "${webhook:-$(random_secret)}" | kv_put_json gateway/webhook

signing="${AUDIT_SIGNING_KEY:-}"
if [ -z "$signing" ]; then
  signing="$(openssl genpkey -algorithm ed25519 -outform DER | base64 | tr -d '\n')"
  log "generated a new audit signing key (give its public half to the gateway: AUDIT_SIGNING_PUBLIC_KEY)"
fi
json_pairs private_key "$signing" | kv_put_json audit/signing

if [ -n "${SENTRY_DSN:-}" ]; then
  json_pairs dsn "$SENTRY_DSN" | kv_put_json shared/sentry
fi

for venue in $(printf '%s' "${EXCHANGE_VENUES:-}" | tr ',' ' '); do
  v="$(printf '%s' "$venue" | tr 'a-z-' 'A-Z_')"
  key="$(value_of "EXCHANGE_${v}_API_KEY")"
  secret="$(value_of "EXCHANGE_${v}_API_SECRET")"
  if [ -z "$key" ] || [ -z "$secret" ]; then
    log "EXCHANGE_${v}_API_KEY or _API_SECRET unset: $venue skipped"
    continue
  fi
  json_pairs api_key "$key" api_secret "$secret" | kv_put_json "execution/exchanges/$venue"
done
log "secrets loaded under $MOUNT/$PREFIX/"
