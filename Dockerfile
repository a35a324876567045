# wsbench's own image: the CLI (`wsbench run`, `merge`, `tokens`, …) and the reference servers,
# for `wsbench render node-job|k6-operator|cluster` (docs/kubernetes.md).
#
#   docker build -t registry.example/wsbench:0.1.0 .
#
# Two stages: `build` installs every dependency and compiles TypeScript to dist/; the final image
# holds dist/, the production dependencies (npm ci --omit=dev) and what the CLI reads at run time
# (package.json and tsconfig.json mark the package root, bin/, engines/k6/scripts/ for the k6 engine's
# bundling, the report schema every written report is validated against). Node 20 on Debian 12, as the docker driver's node image.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /wsbench
COPY package.json package-lock.json ./
# No install scripts: `prepare` would compile before the sources are here; bun and esbuild come
# from their platform packages (optionalDependencies), which need none.
RUN npm ci --ignore-scripts
COPY tsconfig.json index.ts ./
COPY cli cli
COPY config config
COPY runner runner
COPY calibrate calibrate
COPY model model
COPY cluster cluster
COPY common common
COPY engines engines
COPY load load
COPY reference-server reference-server
COPY render render
COPY reports reports
COPY scenarios scenarios
COPY bench bench
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /wsbench
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
WORKDIR /wsbench
ENV NODE_ENV=production
COPY --from=deps /wsbench/node_modules node_modules
COPY --from=build /wsbench/dist dist
COPY package.json tsconfig.json ./
COPY bin bin
COPY engines/k6/scripts engines/k6/scripts
# Every report written is validated against this schema, read at run time (model/schema.ts).
COPY model/run-report.schema.json model/run-report.schema.json
RUN ln -s /wsbench/bin/wsbench.js /usr/local/bin/wsbench && mkdir -p /results && chown node:node /results
USER node
CMD ["wsbench", "--help"]
