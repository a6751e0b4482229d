#!/usr/bin/env bash
# Builds ./Dockerfile (the standalone app) where no registry can be reached: on local stand-ins
# for mcr.microsoft.com/dotnet/sdk:10.0 and aspnet:10.0, made by build-dotnet-base-images.sh
# when the engine holds neither those nor the stand-ins. From anywhere:
#   tests/containers/build-standalone-image.sh
#   docker run -d -p 8080:8080 -v licenzy-data:/var/lib/licenzy -e Licenzy__AdminToken=... licenzy-test/standalone:local
# Where the real images can be pulled, build the Dockerfile as it is: `docker build -t licenzy .`
# The build restores from NuGet inside the build container, on this machine's network
# (--network host: here NuGet is reached through names only this machine's /etc/hosts holds).
# Needs a running Docker engine; the stand-ins also need root and debootstrap.
# Settings: IMAGE (default licenzy-test/standalone:local), SDK_IMAGE, RUNTIME_IMAGE.
set -euo pipefail
cd "$(dirname "$0")/../.."

image="${IMAGE:-licenzy-test/standalone:local}"
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (start dockerd first)" >&2; exit 1; }

have() { docker image inspect "$1" >/dev/null 2>&1; }
if [[ -z "${SDK_IMAGE:-}" || -z "${RUNTIME_IMAGE:-}" ]]; then
  if have mcr.microsoft.com/dotnet/sdk:10.0 && have mcr.microsoft.com/dotnet/aspnet:10.0; then
    SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0 RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
  else
    SDK_IMAGE=licenzy-test/sdk:10.0-local RUNTIME_IMAGE=licenzy-test/aspnet:10.0-local
    if ! have "$SDK_IMAGE" || ! have "$RUNTIME_IMAGE"; then
      SDK_IMAGE="$SDK_IMAGE" RUNTIME_IMAGE="$RUNTIME_IMAGE" tests/containers/build-dotnet-base-images.sh
    fi
  fi
fi

docker build --network host --build-arg SDK_IMAGE="$SDK_IMAGE" --build-arg RUNTIME_IMAGE="$RUNTIME_IMAGE" -t "$image" .
echo "built $image on $SDK_IMAGE and $RUNTIME_IMAGE"
