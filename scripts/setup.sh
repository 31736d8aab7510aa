# Sourced by ./guise. Each step checks before it acts, so a second run is fast.

PNPM_VERSION=10.34.8
APT_PACKAGES=(
  # the mediasoup worker, built against Debian's libraries (scripts/mediasoup)
  build-essential pkg-config meson ninja-build libuv1-dev libssl-dev libsrtp2-dev
  libusrsctp-dev libabsl-dev nlohmann-json3-dev flatbuffers-compiler libflatbuffers-dev
  # browser tests and fake-camera video
  chromium ffmpeg fonts-liberation
  # the TURN relay test (e2e/tests/turn.test.ts starts its own turnserver on loopback)
  coturn
  # the cluster tests (server/test/cluster.test.ts, e2e/tests/cluster.test.ts) start their own redis-server on loopback
  redis-server
  # the WHIP ingest test (e2e/tests/whip.test.ts publishes a GStreamer test pattern with it)
  simple-whip-client
)

step() { printf '\033[1m[guise]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

setup_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  step "apt: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_pnpm() {
  command -v pnpm >/dev/null && return
  step "installing pnpm $PNPM_VERSION"
  # corepack can't verify signatures against this machine's registry; npm can install it.
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null
}

setup_deps() {
  # pnpm skips mediasoup's postinstall (its prebuilt download can't be reached);
  # the worker is built below. onnxruntime-node's postinstall would reach nuget.
  MEDIASOUP_WORKER_BIN=skip ONNXRUNTIME_NODE_INSTALL=skip pnpm install --frozen-lockfile --prefer-offline --reporter=silent
}

setup_client() {
  local stamp
  # The shipped IDN model counts too: its manifest.json hashes every ONNX file.
  stamp=$( (find client/src client/index.html client/output client/vite.config.ts client/public shared/src face/src models/face_landmarker pnpm-lock.yaml -type f; ls models/idn/*/manifest.json) 2>/dev/null | sort | xargs sha1sum | sha1sum | cut -c1-40)
  [ -f client/dist/.stamp ] && [ "$(cat client/dist/.stamp)" = "$stamp" ] && return
  step "building the client"
  pnpm --filter @guise/client build >/dev/null
  echo "$stamp" > client/dist/.stamp
}

setup() {
  setup_apt
  setup_pnpm
  setup_deps
  bash scripts/mediasoup/build-worker.sh
  setup_client
}
