# One image for every role: `docker run <image> api|worker|receiver|bootstrap`.

# The base of both stages. Pin it by digest for reproducible builds: `docker buildx imagetools inspect node:22-slim`
# prints the multi-platform index's `Digest: sha256:…`; set `ARG NODE_IMAGE=node:22-slim@sha256:…` here (the index
# digest, not one platform's, so x86_64 and arm64 builds both resolve). To update: inspect again, replace the digest,
# rebuild and run the tests. `--build-arg NODE_IMAGE=…` overrides it for one build.
ARG NODE_IMAGE=node:22-slim

# Build: all dependencies, TypeScript compiled to dist/, the operator console bundled to dist/console. Its output is
# plain JavaScript, so it runs on the builder's own platform: an arm64 image built on x86_64 (or the reverse) runs
# no step under emulation. Needs BuildKit (Docker 23+'s default), which sets BUILDPLATFORM.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The client package is a workspace: npm ci needs its manifest; the admin CLI compiles its sources.
COPY clients/typescript/package.json ./clients/typescript/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY services ./services
COPY clients/typescript/src ./clients/typescript/src
COPY console ./console
RUN npm run build

# Run: production dependencies and the compiled code only, as the unprivileged `node` user, on the target platform
# (`--platform`, or the builder's own).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# No NODE_OPTIONS here: V8's heap cap depends on the container's memory, so whoever runs the image sets it (the CDK
# stack gives each task's containers 70% of the task's memory, infra/lib/task-size.ts; the benchmark uses the same).
WORKDIR /app
COPY package.json package-lock.json ./
COPY clients/typescript/package.json ./clients/typescript/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Where compose keeps the key that seals signing secrets: a named volume mounted here takes this owner.
RUN mkdir -p /var/lib/webhooks && chown node:node /var/lib/webhooks
USER node
EXPOSE 3000 3001
ENTRYPOINT ["node", "--enable-source-maps", "dist/services/main.js"]
CMD ["api"]
