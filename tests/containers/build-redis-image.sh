#!/usr/bin/env bash
# Builds a Redis image without any container registry: debootstrap a minimal Debian with
# redis-server from a Debian mirror, then `docker import` it. The container tests
# (tests/Licenzy.Standalone.Tests/Containers) use it where redis:7 cannot be pulled:
#   LICENZY_TEST_REDIS_IMAGE=licenzy-test/redis:local dotnet test tests/Licenzy.Standalone.Tests
# Needs root, debootstrap (apt-get install debootstrap) and a running Docker engine.
# Settings: IMAGE (default licenzy-test/redis:local), SUITE (bookworm),
# MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

image="${IMAGE:-licenzy-test/redis:local}"
suite="${SUITE:-bookworm}"
mirror="${MIRROR:-http://deb.debian.org/debian}"

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (start dockerd first)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=redis-server "$suite" "$root" "$mirror"
# What a container never needs: package lists and caches, documentation.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

# Debian's redis-server without a config file listens on every interface but, with no password
# set, refuses clients from outside the container (protected mode); the official image turns that
# off the same way. No persistence: a test's Redis is thrown away with its container.
tar -C "$root" -c . | docker import \
  --change 'CMD ["redis-server", "--protected-mode", "no", "--save", "", "--appendonly", "no"]' \
  --change 'EXPOSE 6379' \
  - "$image"
echo "built $image"
