# The operator image, for machines that can reach a registry. Where none is reachable,
# scripts/build-operator-image makes the same image from the built binary with `docker import`.
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps
COPY . .
RUN rm -rf build && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
 && cmake --build build --target redis-fleet -j"$(nproc)"

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libhiredis0.14 libyaml-cpp0.7 libprometheus-cpp-core1.0 \
      libcpp-httplib0.11 libfmt9 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/controller/redis-fleet /usr/local/bin/redis-fleet
USER 65532:65532
WORKDIR /tmp
EXPOSE 9090 8081
ENTRYPOINT ["/usr/local/bin/redis-fleet"]
CMD ["run", "--kubernetes"]
