# Build: bundle the TypeScript into dist/ (npm ci skips its build here: the sources come after it).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
RUN npm run build

# Run: production dependencies and the compiled code only.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
# GC flags: see docs/decisions.md (booking performance).
CMD ["node", "--single-threaded-gc", "--max-semi-space-size=32", "dist/src/main.js"]
