#!/usr/bin/env bash
# Makes mediasoup 3.19.3's worker build against Debian 12's system libraries.
# 3.19.3 is the newest mediasoup whose engines field accepts Node 20 (>=20;
# 3.19.4 and later say >=22).
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
# The worker asks for a libsrtp 3 fork; Debian has libsrtp2 (srtp.h under
# include/srtp2). The API gap is bridged by the compat header below.
subproject libsrtp3 <<'M'
project('libsrtp3', 'c')
_srtp = dependency('libsrtp2')
libsrtp3_dep = declare_dependency(dependencies: _srtp,
  compile_args: ['-I' + _srtp.get_variable(pkgconfig: 'includedir') / 'srtp2'])
libsrtp3 = static_library('dummy_srtp3', 'dummy.c')
M
options libsrtp3 <<'M'
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

# libsrtp 3 (versatica fork) -> Debian's libsrtp2: (un)protect take separate
# in/out buffers with size_t lengths, two error codes are new, and stream
# removal was renamed. srtp_policy_t is still libsrtp2's struct in 3.19.3.
# One header replaces every `#include <srtp.h>`.
cat > include/guise_srtp2_compat.hpp <<'H'
// GUISE_SRTP2_COMPAT: libsrtp 3 API used by mediasoup 3.19, on top of libsrtp2.
#ifndef GUISE_SRTP2_COMPAT_HPP
#define GUISE_SRTP2_COMPAT_HPP
#include <srtp.h>
#include <cstdint>
#include <cstring>

static constexpr srtp_err_status_t srtp_err_status_buffer_small = static_cast<srtp_err_status_t>(28);
static constexpr srtp_err_status_t srtp_err_status_cryptex_err = static_cast<srtp_err_status_t>(29);

#define srtp_stream_remove srtp_remove_stream

// libsrtp2 works in place on one buffer of int length: copy in -> out first.
#define GUISE_SRTP2_PROTECT(fn, extra)                                                    \
  static inline srtp_err_status_t fn(srtp_t ctx, const uint8_t* in, size_t inLen,         \
    uint8_t* out, size_t* outLen, size_t /*mkiIndex*/)                                    \
  {                                                                                       \
    if (inLen + SRTP_MAX_TRAILER_LEN + (extra) > *outLen) return srtp_err_status_buffer_small; \
    if (out != in) std::memmove(out, in, inLen);                                          \
    int len = static_cast<int>(inLen);                                                    \
    const srtp_err_status_t err = ::fn(ctx, out, &len);                                   \
    if (err == srtp_err_status_ok) *outLen = static_cast<size_t>(len);                    \
    return err;                                                                           \
  }
#define GUISE_SRTP2_UNPROTECT(fn)                                                         \
  static inline srtp_err_status_t fn(srtp_t ctx, const uint8_t* in, size_t inLen,         \
    uint8_t* out, size_t* outLen)                                                         \
  {                                                                                       \
    if (inLen > *outLen) return srtp_err_status_buffer_small;                             \
    if (out != in) std::memmove(out, in, inLen);                                          \
    int len = static_cast<int>(inLen);                                                    \
    const srtp_err_status_t err = ::fn(ctx, out, &len);                                   \
    if (err == srtp_err_status_ok) *outLen = static_cast<size_t>(len);                    \
    return err;                                                                           \
  }
GUISE_SRTP2_PROTECT(srtp_protect, 0)
GUISE_SRTP2_PROTECT(srtp_protect_rtcp, 4) // + SRTCP E flag and index
GUISE_SRTP2_UNPROTECT(srtp_unprotect)
GUISE_SRTP2_UNPROTECT(srtp_unprotect_rtcp)
#endif
H
sed -i 's|#include <srtp.h>|#include "guise_srtp2_compat.hpp"|' include/DepLibSRTP.hpp include/RTC/SrtpSession.hpp
grep -q guise_srtp2_compat include/DepLibSRTP.hpp && grep -q guise_srtp2_compat include/RTC/SrtpSession.hpp ||
  { echo "srtp compat include did not apply" >&2; exit 1; }

# The DTLS BIO callback returns 1 for every op except exactly BIO_CB_RETURN; with
# Debian's OpenSSL 3.0 that segfaults in SSL_do_handshake. Test the flag bit.
sed -i 's/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/' src/RTC/DtlsTransport.cpp
grep -q '(operationType & BIO_CB_RETURN)' src/RTC/DtlsTransport.cpp || { echo "DTLS BIO patch did not apply" >&2; exit 1; }
