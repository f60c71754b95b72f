# One image for every service of the pipeline; ENTRY picks which one runs.
# Used by docker-compose.yml (profile "services"). Not used by the no-Docker stack.
FROM node:20-bookworm-slim AS build
# Native packages build at npm ci: zstd-napi (node-gyp) and @confluentinc/kafka-javascript, whose
# librdkafka is linked against Debian's OpenSSL, zlib, zstd and SASL (as scripts/common.sh does).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
      libssl-dev zlib1g-dev libzstd-dev libsasl2-dev && rm -rf /var/lib/apt/lists/*
ENV CKJS_LINKING=dynamic npm_config_nodedir=/usr/local
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# The shared libraries librdkafka was linked against.
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 zlib1g libzstd1 libsasl2-2 \
      && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
# Where audit writes its trail and the services their reports (a volume in docker-compose.yml).
RUN mkdir -p /app/logs /app/results && chown node:node /app/logs /app/results
ARG ENTRY=services/intake/dist/main.js
ENV ENTRY=${ENTRY}
USER node
CMD ["sh", "-c", "exec node \"$ENTRY\""]
