# An image of one or more Debian packages (bookworm), for the compose stack's NATS, Janus and
# coturn: the same builds the tests run against on the host. Build from deploy/compose/:
#
#   docker build -f debian-package.Dockerfile --build-arg PACKAGES=janus -t talk-janus .
#
# BASE_IMAGE: any Debian bookworm image with apt sources (CI: its local debootstrap base).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG PACKAGES
# Janus' module folders live under the multiarch path; the /usr/lib/janus link is the same on
# every architecture, so config.example/janus/janus.jcfg can name it.
RUN test -n "$PACKAGES" \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -d /usr/lib/*/janus ]; then ln -s /usr/lib/*/janus /usr/lib/janus; fi
# nobody: none of the three needs root (ports above 1024, configs mounted read-only).
USER 65534:65534
