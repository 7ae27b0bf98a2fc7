# desk-risk: what the risk service may read in Vault, and nothing more (docs/secrets.md).
# Its own folder: its database and Redis passwords.
# The shared folder: the Sentry DSN.
# Read only: no list, no write, no other service's folder, no metadata or older versions.
# Token lookup-self and renew-self come with Vault's built-in "default" policy, which AppRole tokens carry.
# __MOUNT__ and __PREFIX__ are replaced by init.sh with VAULT_KV_MOUNT and VAULT_KV_PREFIX (secret, desk).

path "__MOUNT__/data/__PREFIX__/risk/*" {
  capabilities = ["read"]
}

path "__MOUNT__/data/__PREFIX__/shared/*" {
  capabilities = ["read"]
}
