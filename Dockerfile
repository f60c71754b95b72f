# One image for every service of the pipeline; ENTRY picks which one runs.
# Used by docker-compose.yml (profile "services"). Not used by the no-Docker stack.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
# Where audit writes its trail and the services their reports (a volume in docker-compose.yml).
RUN mkdir -p /app/logs /app/results && chown node:node /app/logs /app/results
ARG ENTRY=services/intake/dist/main.js
ENV ENTRY=${ENTRY}
USER node
CMD ["sh", "-c", "exec node \"$ENTRY\""]
