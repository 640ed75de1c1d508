# One image for every role: `docker run <image> api|worker|receiver|bootstrap`.

# Build: all dependencies, TypeScript compiled to dist/, the operator console bundled to dist/console.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY services ./services
COPY console ./console
RUN npm run build

# Run: production dependencies and the compiled code only, as the unprivileged `node` user.
FROM node:22-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000 3001
ENTRYPOINT ["node", "--enable-source-maps", "dist/services/main.js"]
CMD ["api"]
