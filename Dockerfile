# One image for the gateway and every Node subgraph; WORKSPACE picks which one
# runs (supergraph, subgraphs/identity, subgraphs/projects, subgraphs/lineage,
# subgraphs/sessions, mesh, stack for the GitLab stand-in).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npx tsc -b && npm run build -w mesh --if-present

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app /app
ARG WORKSPACE=supergraph
ENV WORKSPACE=${WORKSPACE}
USER node
CMD ["sh", "-c", "exec node \"$WORKSPACE/dist/main.js\""]
