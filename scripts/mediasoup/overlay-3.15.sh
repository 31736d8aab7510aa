#!/usr/bin/env bash
# Makes mediasoup 3.15's worker build against Debian 12's system libraries.
# Each meson wrap becomes a local subproject that wraps `dependency()` on the
# Debian library and exports the variable names the worker's meson.build uses.
set -euo pipefail
cd "$1"
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 0.63'/" meson.build
rm -f subprojects/*.wrap

subproject() { # name, meson.build body on stdin
  mkdir -p "subprojects/$1"; cat > "subprojects/$1/meson.build"; : > "subprojects/$1/dummy.c"
}
options() { cat > "subprojects/$1/meson_options.txt"; }

subproject openssl <<'M'
project('openssl', 'c')
openssl_dep = dependency('openssl', version: '>= 3.0')
libcrypto_lib = static_library('dummy_crypto', 'dummy.c')
libssl_lib = static_library('dummy_ssl', 'dummy.c')
M
subproject libuv <<'M'
project('libuv', 'c')
libuv_dep = dependency('libuv')
libuv = static_library('dummy_uv', 'dummy.c')
M
options libuv <<'M'
option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)
M
# Debian installs srtp.h under include/srtp2.
subproject libsrtp2 <<'M'
project('libsrtp2', 'c')
_srtp = dependency('libsrtp2')
libsrtp2_dep = declare_dependency(dependencies: _srtp,
  compile_args: ['-I' + _srtp.get_variable(pkgconfig: 'includedir') / 'srtp2'])
libsrtp2 = static_library('dummy_srtp2', 'dummy.c')
M
options libsrtp2 <<'M'
option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'string', value: 'disabled')
option('tests', type: 'string', value: 'disabled')
M
subproject usrsctp <<'M'
project('usrsctp', 'c')
usrsctp_dep = dependency('usrsctp')
usrsctp = static_library('dummy_usrsctp', 'dummy.c')
M
options usrsctp <<'M'
option('sctp_build_programs', type: 'boolean', value: false)
M
subproject abseil-cpp <<'M'
project('abseil-cpp', 'c')
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'),
  dependency('absl_btree'), dependency('absl_inlined_vector'), dependency('absl_memory')])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])
absl_container_lib = static_library('dummy_absl', 'dummy.c')
M
subproject catch2 <<'M'
project('catch2', 'c')
catch2_dep = declare_dependency()
M
subproject flatbuffers <<'M'
project('flatbuffers', 'c')
flatbuffers_dep = dependency('flatbuffers')
flatbuffers_lib = static_library('dummy_flatbuffers', 'dummy.c')
M

# mediasoup 3.13+ targets a libsrtp 3 fork that takes size_t* lengths; Debian's
# libsrtp2 takes int*. Add size_t* overloads ahead of the RTC namespace.
if ! grep -q GUISE_SRTP2_COMPAT src/RTC/SrtpSession.cpp; then
  compat='// GUISE_SRTP2_COMPAT: size_t* overloads for libsrtp2 (int* lengths).
#define GUISE_SRTP2_WRAP(fn) static inline srtp_err_status_t fn(srtp_t s, void* d, size_t* l) { int i = static_cast<int>(*l); srtp_err_status_t e = ::fn(s, d, &i); *l = static_cast<size_t>(i); return e; }
GUISE_SRTP2_WRAP(srtp_protect)
GUISE_SRTP2_WRAP(srtp_unprotect)
GUISE_SRTP2_WRAP(srtp_protect_rtcp)
GUISE_SRTP2_WRAP(srtp_unprotect_rtcp)'
  awk -v c="$compat" '!done && /^namespace RTC/ { print c; done = 1 } { print }' src/RTC/SrtpSession.cpp > src/RTC/SrtpSession.cpp.new
  mv src/RTC/SrtpSession.cpp.new src/RTC/SrtpSession.cpp
fi
# libsrtp 3 renamed srtp_remove_stream() to srtp_stream_remove().
grep -q 'define srtp_stream_remove' include/RTC/SrtpSession.hpp ||
  sed -i 's|#include <srtp.h>|#include <srtp.h>\n#define srtp_stream_remove srtp_remove_stream|' include/RTC/SrtpSession.hpp
# The DTLS BIO callback returns 1 for every op except exactly BIO_CB_RETURN; with
# Debian's OpenSSL 3.0 that segfaults in SSL_do_handshake. Test the flag bit.
sed -i 's/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/' src/RTC/DtlsTransport.cpp
grep -q '(operationType & BIO_CB_RETURN)' src/RTC/DtlsTransport.cpp || { echo "DTLS BIO patch did not apply" >&2; exit 1; }
