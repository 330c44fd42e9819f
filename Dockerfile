# The standalone relay. Build: `docker build -t hh-relay .`; run: see docker-compose.yml.
# Stage 1 compiles TypeScript with every dependency; stage 2 keeps only what runs.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# Production dependencies only. The Nest packages the relay runs on (@nestjs/schedule, terminus,
# prom-client, …) are peerDependencies of the library, installed here as devDependencies, so a
# plain `npm prune --omit=dev` would drop them: for the image they become dependencies first,
# with the lock recomputed offline from what `npm ci` installed (same versions).
RUN node -e "const fs=require('fs'),p=require('./package.json');for(const n of Object.keys(p.peerDependencies||{})){p.dependencies[n]=p.devDependencies[n]||p.peerDependencies[n];delete p.devDependencies[n]}fs.writeFileSync('package.json',JSON.stringify(p,null,2))" \
  && npm install --package-lock-only --offline --ignore-scripts --no-audit --no-fund \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HH_DATA_DIR=/var/lib/hh \
    HH_PORT=9096 \
    HH_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The queues live on a volume owned by the unprivileged `node` user of the base image; the code
# stays root-owned and read-only for it.
RUN mkdir -p /var/lib/hh && chown node:node /var/lib/hh
USER node
VOLUME ["/var/lib/hh"]
EXPOSE 9096
# Ready = queues open and disk below HH_HEALTH_DISK_THRESHOLD: what an orchestrator should ask.
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.HH_PORT||9096)+'/health/ready',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# node is PID 1 (exec form, no shell, no npm): `docker stop`'s SIGTERM reaches the relay, which
# finishes its hand-offs, closes its queues and exits 0 within HH_SHUTDOWN_TIMEOUT.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
