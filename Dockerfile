# The faultline node image. No registry is reachable from where faultline is
# built and tested, so there is no base image to pull: the image holds only
# the statically linked node binary. Build bin/node first (make image does):
#
#   CGO_ENABLED=0 go build -o bin/node ./cmd/node
#   mkdir -p bin/image-data
#   docker build -t faultline-node:latest .
FROM scratch

COPY bin/node /node

# An empty directory from the build context becomes the data directory,
# owned by the user below. A named volume mounted on /data starts as a copy
# of it, with the same owner, so the node can write there.
COPY --chown=65532:65532 bin/image-data/ /data/

USER 65532:65532

ENV FAULTLINE_DATA_DIR=/data \
    FAULTLINE_HTTP_ADDR=0.0.0.0:8080 \
    FAULTLINE_RAFT_ADDR=0.0.0.0:8300 \
    FAULTLINE_GOSSIP_ADDR=0.0.0.0:7946

# 8080 admin HTTP API, 8300 raft, 7946 memberlist gossip (TCP and UDP).
EXPOSE 8080/tcp 8300/tcp 7946/tcp 7946/udp
VOLUME ["/data"]

# The image has no shell, so the node binary checks its own health.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/node", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]

ENTRYPOINT ["/node", "run"]
