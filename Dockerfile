# syntax=docker/dockerfile:1
# Multi-stage: build with the SDK, run on the smaller ASP.NET runtime image as a non-root user.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
COPY Directory.Build.props Directory.Packages.props ConvService.sln appsettings.json ./
COPY src/ConvService.Core/ConvService.Core.csproj src/ConvService.Core/
COPY src/ConvService/ConvService.csproj src/ConvService/
RUN dotnet restore src/ConvService/ConvService.csproj
COPY src/ src/
RUN dotnet publish src/ConvService/ConvService.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Urls (not ASPNETCORE_URLS): appsettings.json sets Urls, and only a plain environment variable overrides it.
ENV Urls=http://+:8080 \
    DOTNET_gcServer=1
EXPOSE 8080
# The aspnet image ships an unprivileged 'app' user (UID 1654).
USER $APP_UID
ENTRYPOINT ["dotnet", "ConvService.dll"]
