#!/usr/bin/env bash
# Starts a Docker engine for the docker driver when none answers (CI, or a developer machine
# without one): installs Debian's docker.io when dockerd is missing, starts
# `dockerd --bridge=none --iptables=false` in the background — no default bridge and no iptables
# rules, so no private network addresses appear; wsbench's containers use host networking — and
# waits for `docker info`. Prints the pid of the dockerd it started (nothing when an engine was
# already answering), so the caller can stop it. Needs root.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-docker-engine: installing docker.io with apt-get" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
log=${WSB_DOCKERD_LOG:-/tmp/wsbench-dockerd.log}
nohup dockerd --bridge=none --iptables=false >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "$pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
echo "start-docker-engine: dockerd did not answer within 60 s; the end of its log ($log):" >&2
tail -20 "$log" >&2
exit 1
