# Mailgrant for deployment (see docker-compose.yml). Build stage compiles TypeScript;
# the runtime image carries only production dependencies, the compiled code, templates and migrations.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production DATA_DIR=/var/lib/mailgrant
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY templates templates
COPY drizzle drizzle
RUN mkdir -p /var/lib/mailgrant && chown node:node /var/lib/mailgrant
USER node
EXPOSE 2525 9465
CMD ["node", "dist/cli/index.js", "start"]
