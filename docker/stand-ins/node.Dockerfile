# Stand-in for the official node:20-bookworm-slim on a machine without a registry: Debian bookworm (made with
# debootstrap) with the host's Node.js binary and npm where the official image has them, and its user
# `node` (uid 1000).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
# The host's CA bundle (its egress may re-sign TLS): what the host's Node.js trusts, this one trusts too.
COPY ca-certificates.crt /usr/local/share/desk-stand-in/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/desk-stand-in/ca-certificates.crt \
  npm_config_cafile=/usr/local/share/desk-stand-in/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/sh --create-home node \
  && node --version && npm --version
USER node
CMD ["node"]
