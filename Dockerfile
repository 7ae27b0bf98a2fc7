# One image for the five services (gateway, agent-analysis, risk, execution, audit) and the one-shot migrate
# step; the service is chosen by DESK_SERVICE and the command (docker/entrypoint.mjs). docker-compose.yml runs
# it. NODE_IMAGE is any Debian-based Node.js 20 image: the official one by default; the docker tests pass a
# locally built stand-in (docker/stand-ins/) on machines without a registry.
ARG NODE_IMAGE=node:20-bookworm-slim

# ── build: every dependency, compile, then keep production dependencies only ─────────────────────────
FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=10.34.8
USER root
WORKDIR /src
RUN npm install --global --no-audit --no-fund "pnpm@${PNPM_VERSION}"
ENV CI=1
# Manifests first: the dependency layer is rebuilt only when they or the lockfile change.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY apps/gateway/package.json apps/gateway/
COPY apps/agent-analysis/package.json apps/agent-analysis/
COPY apps/risk/package.json apps/risk/
COPY apps/execution/package.json apps/execution/
COPY apps/audit/package.json apps/audit/
COPY libs/contracts/package.json libs/contracts/
COPY libs/platform/package.json libs/platform/
COPY libs/audit-chain/package.json libs/audit-chain/
COPY libs/testing/package.json libs/testing/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm --recursive --workspace-concurrency=2 run build \
  && pnpm install --frozen-lockfile --prod \
  && rm -rf node_modules/.cache node_modules/.pnpm/node_modules/.cache \
  && find apps libs -name '*.tsbuildinfo' -delete

# ── runtime: compiled code and production dependencies, owned by root, run by an unprivileged user ───
FROM ${NODE_IMAGE}
USER root
# tini: a real init as PID 1 (reaps zombies, forwards SIGTERM to Node.js for its graceful shutdown).
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /run/desk-vault && chown 1000:1000 /run/desk-vault
ENV NODE_ENV=production DESK_IMAGE=1
WORKDIR /app
COPY --from=build /src/package.json /src/pnpm-workspace.yaml ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/apps ./apps
COPY --from=build /src/libs ./libs
COPY --from=build /src/scripts ./scripts
COPY --from=build /src/infra/redis ./infra/redis
COPY --from=build /src/docker/entrypoint.mjs /src/docker/healthcheck.mjs ./docker/
# The sources stay out of the runtime image; only dist/ and package.json of each package are needed.
RUN find apps libs -mindepth 2 -maxdepth 2 \( -name src -o -name test -o -name 'tsconfig*.json' \) \
  -exec rm -rf {} +
# Non-root (the node user of the official image, uid 1000); the code is root's and read-only to it. Nothing
# is written at run time: the root filesystem can be mounted read-only (logs go to stdout).
USER 1000:1000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/docker/healthcheck.mjs"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "/app/docker/entrypoint.mjs"]
CMD ["main"]
