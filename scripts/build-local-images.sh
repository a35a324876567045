#!/usr/bin/env bash
# Builds the three images the docker driver uses (Redis, NGINX, Node for the reference nodes) from
# this machine's own binaries, without any image registry: each image is a minimal root filesystem
# (the binary, the shared libraries `ldd` names, /etc/passwd and /etc/group, /tmp) loaded with
# `docker import`, and tagged with the driver's default image names so the driver finds them
# without pulling. For air-gapped networks and CI machines that reach no registry.
#
#   scripts/build-local-images.sh            # builds the images that are missing
#   scripts/build-local-images.sh --force    # rebuilds all three
#
# Needs: a reachable Docker engine (`docker info`), and redis-server, nginx and node on this
# machine (`npx wsbench setup` installs the first two). Tags can be changed through
# WSB_REDIS_IMAGE, WSB_NGINX_IMAGE and WSB_NODE_IMAGE (pass the same names to `wsbench run` with
# --redis-image, --nginx-image, --node-image). Every image carries the label wsbench.local-build=true;
# `wsbench doctor` says so, and the report records the versions that actually ran (the machine's
# redis-server and nginx, which may differ from the upstream images' versions).
set -euo pipefail

# wsbench's own names, never an official image's tag (a local build must not shadow the real image).
# `wsbench setup --tests` passes DOCKER_IMAGE_DEFAULTS (config/defaults.ts); keep these in step.
REDIS_IMAGE=${WSB_REDIS_IMAGE:-wsbench/redis:7.4-bookworm}
NGINX_IMAGE=${WSB_NGINX_IMAGE:-wsbench/nginx:1.28-bookworm}
NODE_IMAGE=${WSB_NODE_IMAGE:-wsbench/node:20-bookworm-slim}
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

DOCKER=${DOCKER:-docker}
if ! "$DOCKER" info >/dev/null 2>&1; then
  echo "build-local-images: no Docker engine answers (docker info failed)" >&2
  exit 1
fi

find_bin() {
  local name=$1 p
  for p in "$(command -v "$name" 2>/dev/null || true)" "/usr/sbin/$name" "/usr/local/sbin/$name" "/usr/local/bin/$name" "/usr/bin/$name"; do
    if [ -n "$p" ] && [ -x "$p" ]; then
      echo "$p"
      return 0
    fi
  done
  echo "build-local-images: $name not found (npx wsbench setup installs redis-server and nginx)" >&2
  return 1
}

# copy_with_libs ROOT SRC DEST: the (dereferenced) binary SRC at ROOT/DEST, plus every shared
# library and the dynamic loader that ldd names, at the paths ldd prints.
copy_with_libs() {
  local root=$1 src=$2 dest=$3 lib
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$src" "$root$dest"
  chmod 0755 "$root$dest"
  ldd "$src" | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]+/ { print $1 }' | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# base_root ROOT: what every image needs besides its binary.
base_root() {
  local root=$1
  mkdir -p "$root/etc" "$root/tmp" "$root/run" "$root/var/tmp" "$root/data"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/usr/sbin/nologin
node:x:1000:1000:node:/home/node:/usr/sbin/nologin
nginx:x:101:101:nginx:/nonexistent:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
redis:x:999:999:redis:/data:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
nginx:x:101:
node:x:1000:
redis:x:999:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  : >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
}

# import ROOT TAG CMD: loads ROOT as the image TAG with a default command.
import_root() {
  local root=$1 tag=$2 cmd=$3
  tar -C "$root" --numeric-owner -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "CMD $cmd" \
    --change 'LABEL wsbench.local-build=true' \
    - "$tag" >/dev/null
}

wanted() {
  local tag=$1
  if [ "$FORCE" = 0 ] && "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
    echo "build-local-images: $tag is present (--force rebuilds it)"
    return 1
  fi
  return 0
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)

if wanted "$REDIS_IMAGE"; then
  root="$work/redis"
  base_root "$root"
  # Debian's redis-server is a symlink to redis-check-rdb: the binary picks its role from argv[0].
  copy_with_libs "$root" "$(find_bin redis-server)" /usr/local/bin/redis-server
  import_root "$root" "$REDIS_IMAGE" '["redis-server"]'
  echo "build-local-images: built $REDIS_IMAGE ($(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/redis \1/p') from this machine)"
fi

if wanted "$NGINX_IMAGE"; then
  root="$work/nginx"
  base_root "$root"
  copy_with_libs "$root" "$(find_bin nginx)" /usr/sbin/nginx
  mkdir -p "$root/etc/nginx" "$root/var/log/nginx" "$root/var/lib/nginx" "$root/var/cache/nginx" "$root/usr/share/nginx/html"
  [ -f /etc/nginx/mime.types ] && cp /etc/nginx/mime.types "$root/etc/nginx/mime.types"
  if [ -d /usr/lib/nginx/modules ]; then
    mkdir -p "$root/usr/lib/nginx/modules"
    for m in /usr/lib/nginx/modules/*.so; do [ -e "$m" ] && copy_with_libs "$root" "$m" "/usr/lib/nginx/modules/$(basename "$m")"; done
  fi
  # A default config so that the image also runs alone (wsbench passes its own with -c).
  cat >"$root/etc/nginx/nginx.conf" <<'EOF'
events {}
http {
    server {
        listen 127.0.0.1:8080;
        location / { return 200 "ok\n"; }
    }
}
EOF
  import_root "$root" "$NGINX_IMAGE" '["nginx", "-g", "daemon off;"]'
  echo "build-local-images: built $NGINX_IMAGE ($("$(find_bin nginx)" -v 2>&1 | sed -n 's|.*nginx/\([^ ]*\).*|nginx \1|p') from this machine)"
fi

if wanted "$NODE_IMAGE"; then
  root="$work/node"
  base_root "$root"
  mkdir -p "$root/home/node"
  copy_with_libs "$root" "$(find_bin node)" /usr/local/bin/node
  import_root "$root" "$NODE_IMAGE" '["node"]'
  echo "build-local-images: built $NODE_IMAGE (node $("$(find_bin node)" --version) from this machine)"
fi

echo "build-local-images: done in $(($(date +%s) - t0)) s"
