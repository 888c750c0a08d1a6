# imgsize's own image.
#
#   docker build -t imgsize .

FROM golang:1.26 AS build
WORKDIR /src
# Module files alone first, so the dependency download stays cached while
# only sources change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/imgsize ./cmd/imgsize

# distroless/static ships CA certificates (and tzdata) and nothing else, so
# TLS to registries works with no shell or package manager in the image;
# :nonroot runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/imgsize /usr/local/bin/imgsize
ENTRYPOINT ["/usr/local/bin/imgsize"]
