# xnamesrv container image: `npm run docker:build` (docs/deployment.md, "Container image").
#
# Configuration, later sources winning (README, "Configuration"):
#   - a properties file mounted into the container and named by XNAMESRV_CONFIG_FILE
#     (the same keys as the Java name server's namesrv.properties);
#   - XNAMESRV_* environment variables, e.g. XNAMESRV_NEED_WAIT_FOR_SERVICE=true.
# Prefer these two to command-line flags: the HEALTHCHECK reads the same two sources
# to find the HTTP port, and cannot see flags.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: compile TypeScript with the dev dependencies ----------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY machines ./machines
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# ---- runtime: production dependencies, the compiled code, the console page ----
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="xnamesrv" \
      org.opencontainers.image.description="An Apache RocketMQ NameServer in TypeScript whose lifecycles are XState actors" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /opt/xnamesrv
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /build/dist ./dist
# The console is served from the page's sources (plain ES modules, no build step).
COPY src/console/page ./src/console/page

# kvConfig.json and the runtime-updated namesrv.properties live here. The variable
# beats a dataDir in the properties file (environment > file); set it to move them.
ENV XNAMESRV_DATA_DIR=/var/lib/xnamesrv
RUN mkdir -p /var/lib/xnamesrv && chown 1000:1000 /var/lib/xnamesrv
VOLUME ["/var/lib/xnamesrv"]

# listenPort (remoting) and httpPort (probes, metrics, console, /ws, /rocketmq/nsaddr).
# bindAddress defaults to 0.0.0.0, every interface of the container; set
# XNAMESRV_BIND_ADDRESS=:: on an IPv6-only network.
EXPOSE 9876 9877

# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

# Ready, not merely alive: /readyz answers 503 while a name server with
# needWaitForService waits for brokers, which may last up to waitTimeoutSeconds
# (300 s by default). The start period covers that wait so the container is not
# reported unhealthy (and restarted by an orchestrator that restarts unhealthy
# containers) before brokers had the time to register; raise it with
# waitTimeoutSeconds. Kubernetes ignores HEALTHCHECK and uses the manifests' probes.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5m --retries=3 \
  CMD ["node", "dist/src/cli/healthcheck.js"]

# SIGTERM (docker stop) stops gracefully: in-flight requests are answered, the KV
# store is flushed. node runs as PID 1 and xnamesrv handles the signal itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/main.js"]
