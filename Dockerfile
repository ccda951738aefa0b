# The image of the callbridge controller and of the post-call worker: docker-compose.yml builds it once and runs
# both services from it. The sources are TypeScript run by tsx at start (bin/callbridge.mjs), so there is no
# compile step; what the build does once is install the locked dependencies, instead of every container start.

# Stage 1: the production dependencies, exactly as package-lock.json pins them. tsx, which runs the sources, is
# a production dependency; compilers, linters and test tools are not installed.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Stage 2: the runtime. Only what the controller and worker read at run time: the sources, the SQL migrations,
# the shipped dialplan (docker-compose.yml mounts the practice's over it) and the dependencies from stage 1.
FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY sql ./sql
COPY dialplan ./dialplan
# The mount points of docker-compose.yml's named volumes (RECORDINGS_DIR, TTS_CACHE_DIR, RECORDING_STORAGE_DIR),
# owned by the unprivileged user: Docker gives a new, empty named volume the ownership of the image's directory,
# so the controller can delete a recording once it is encrypted and write the TTS cache FreeSWITCH plays from.
RUN mkdir -p /data/recordings /data/tts-cache /data/recording-store \
  && chown node:node /data/recordings /data/tts-cache /data/recording-store
# The node image's own unprivileged user (uid 1000); nothing here needs root.
USER node
# 8080: HTTP API and the audio fork WebSocket; 8084: FreeSWITCH's outbound event socket connections.
EXPOSE 8080 8084
# node itself is the main process, so `docker stop` (SIGTERM) reaches the controller's graceful shutdown.
# The worker service runs the same image with `node bin/callbridge.mjs worker`.
CMD ["node", "bin/callbridge.mjs", "start"]
