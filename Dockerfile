# syntax=docker/dockerfile:1
# The standalone app (both apps in one process, embedded components, one SQLite file) in one
# image. From the repository root:
#   docker build -t licenzy .
#   docker run -d -p 8080:8080 -v licenzy-data:/var/lib/licenzy -e Licenzy__AdminToken=<secret> licenzy
# The Dapr mode's two images are built by deploy/Dockerfile instead. docs/deploy.md has the rest,
# and says what of this was built and run where no registry could be reached.

# Base images are arguments so that a mirror, a pinned digest or a local stand-in can be named
# (tests/containers/build-dotnet-base-images.sh makes stand-ins without a registry).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ src/
# /data becomes the data volume's first content: an empty folder the app's user owns, so that a
# new named volume is writable by that user (Docker copies the owner into it).
RUN dotnet publish src/Licenzy.Standalone --configuration Release --output /out \
 && mkdir /data

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
# The app's files stay root-owned: the app cannot change them.
COPY --from=build /out ./
COPY --from=build --chown=1654:1654 /data /var/lib/licenzy
# Urls in the environment, because appsettings.json's Urls (localhost:5080, for dotnet run) would
# win over the runtime image's ASPNETCORE_HTTP_PORTS. The admin token and every secret come from
# the environment at run time and are never written here.
ENV Urls=http://+:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Licenzy__DataPath=/var/lib/licenzy
# The aspnet images' non-root "app" user, by number so that Kubernetes' runAsNonRoot can check it.
USER 1654:1654
# The SQLite file, the Data Protection key ring that encrypts tenants' Stripe secrets, and the
# outbox owner locks: all state there is. Back it up; without keys/ the Stripe secrets are lost.
VOLUME ["/var/lib/licenzy"]
EXPOSE 8080
# The app asks itself (the runtime image has no curl): exit 0 when /readyz answers 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["dotnet", "Licenzy.Standalone.dll", "healthcheck", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["dotnet", "Licenzy.Standalone.dll"]
