#!/usr/bin/env bash
# Builds local stand-ins for mcr.microsoft.com/dotnet/aspnet:10.0 and sdk:10.0 without any
# container registry, so that ./Dockerfile can be built and run on a machine that can pull
# nothing: debootstrap a minimal Debian with what .NET needs (ca-certificates, libssl3, zlib1g,
# libstdc++6, tzdata), copy this machine's .NET into it, and `docker import` it.
#   runtime stand-in: the host (dotnet, host/fxr) and shared/Microsoft.NETCore.App and
#     shared/Microsoft.AspNetCore.App of the version this machine's SDK runs on, the "app" user
#     (UID and GID 1654) and the variables the aspnet image sets (APP_UID, ASPNETCORE_HTTP_PORTS,
#     DOTNET_RUNNING_IN_CONTAINER).
#   SDK stand-in: this machine's whole .NET folder. It restores from NuGet like the real image,
#     so the build using it must reach NuGet: build with --network host, and this machine's extra
#     CA certificates (/usr/local/share/ca-certificates, such as an egress proxy's) are trusted
#     in it. The SDK runs with invariant globalization (no ICU in the stand-in).
# They are not the real images (Debian 12 for Ubuntu 24.04; no ICU, no curl either way); they
# hold the same .NET, at the same paths, run as the same user.
# Needs root, debootstrap and a running Docker engine. Settings: RUNTIME_IMAGE (default
# licenzy-test/aspnet:10.0-local), SDK_IMAGE (licenzy-test/sdk:10.0-local), DOTNET_ROOT (the
# folder of `dotnet` on PATH), SUITE (bookworm), MIRROR (http://deb.debian.org/debian).
set -euo pipefail

runtime_image="${RUNTIME_IMAGE:-licenzy-test/aspnet:10.0-local}"
sdk_image="${SDK_IMAGE:-licenzy-test/sdk:10.0-local}"
suite="${SUITE:-bookworm}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
dotnet_root="${DOTNET_ROOT:-$(dirname "$(readlink -f "$(command -v dotnet)")")}"

command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker engine answers (start dockerd first)" >&2; exit 1; }
[[ -x "$dotnet_root/dotnet" ]] || { echo "no dotnet in $dotnet_root (set DOTNET_ROOT)" >&2; exit 1; }

# The runtime the SDK itself runs on: "Host: Version: 10.0.12" in dotnet --info.
version=$("$dotnet_root/dotnet" --info | awk '/^Host:/ { host = 1 } host && /Version:/ { print $2; exit }')
for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
  [[ -d "$dotnet_root/shared/$framework/$version" ]] || { echo "no $framework $version in $dotnet_root/shared" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"

debootstrap --variant=minbase --include=ca-certificates,libssl3,zlib1g,libstdc++6,tzdata "$suite" "$root" "$mirror"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
chroot "$root" groupadd --gid 1654 app
chroot "$root" useradd --uid 1654 --gid 1654 --create-home --shell /usr/sbin/nologin app

common_changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV APP_UID=1654'
  --change 'ENV DOTNET_RUNNING_IN_CONTAINER=true'
  --change "ENV DOTNET_VERSION=$version"
  --change "ENV ASPNET_VERSION=$version"
)

# Runtime: only the host and the two shared frameworks, at the aspnet image's paths.
mkdir -p "$root/usr/share/dotnet/shared"
cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$root/usr/share/dotnet/"
for framework in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
  mkdir -p "$root/usr/share/dotnet/shared/$framework"
  cp -a "$dotnet_root/shared/$framework/$version" "$root/usr/share/dotnet/shared/$framework/"
done
ln -s /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
tar -C "$root" -c . | docker import "${common_changes[@]}" \
  --change 'ENV ASPNETCORE_HTTP_PORTS=8080' \
  --change 'WORKDIR /app' \
  - "$runtime_image"
echo "built $runtime_image (.NET $version)"

# SDK: the whole folder, and the CA certificates this machine adds, so that NuGet is reached as here.
rm -rf "$root/usr/share/dotnet"
cp -a "$dotnet_root" "$root/usr/share/dotnet"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null
fi
sdk_changes=(--change 'ENV DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=true' --change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1' --change 'ENV DOTNET_NOLOGO=1')
[[ -n "${NUGET_CERT_REVOCATION_MODE:-}" ]] && sdk_changes+=(--change "ENV NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE")
tar -C "$root" -c . | docker import "${common_changes[@]}" "${sdk_changes[@]}" --change 'WORKDIR /src' - "$sdk_image"
echo "built $sdk_image (SDK $("$dotnet_root/dotnet" --version))"
