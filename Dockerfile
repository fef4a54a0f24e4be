# Mailgrant for deployment (see docker-compose.yml). The build stage compiles TypeScript; the
# runtime image carries only production dependencies, the compiled code, templates and migrations.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
# HTTP_PORT on all interfaces inside the container; docker-compose.yml publishes it on loopback.
ENV NODE_ENV=production DATA_DIR=/var/lib/mailgrant HTTP_PORT=0.0.0.0:9465
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY templates templates
COPY drizzle drizzle
RUN mkdir -p /var/lib/mailgrant && chown node:node /var/lib/mailgrant
USER node
# 2525: SMTP intake (when SMTP_INTAKE is set); 9465: /healthz and /metrics.
EXPOSE 2525 9465
# No curl in the slim image: node itself asks /healthz.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9465/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: stop intake, finish the message in hand, drain, exit 0.
# --single-threaded-gc: as `npm start` (README, "Memory and CPU").
CMD ["node", "--single-threaded-gc", "dist/cli/index.js", "start"]
