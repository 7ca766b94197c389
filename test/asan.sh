#!/usr/bin/env bash
# npm run test:asan: build the addon with AddressSanitizer and
# UndefinedBehaviorSanitizer, run the whole mocha suite with the sanitizer
# runtimes preloaded into node (and every child it starts), count the
# findings, then rebuild the normal addon.
set -uo pipefail
cd "$(dirname "$0")/.."

logs=$(mktemp -d)
restore() { npm run build >/dev/null 2>&1 || echo "rebuilding the normal addon failed"; }
trap restore EXIT

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
CFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" npm run build >"$logs/build.log" 2>&1 \
  || { cat "$logs/build.log"; exit 1; }
nm -D build/Release/mmap_io.node | grep __asan_ >/dev/null || { echo "the addon was not built with ASan"; exit 1; }

preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
# Node's own allocations are not ours to judge (detect_leaks=0); the SIGSEGV
# and SIGBUS hazard tests need those signals delivered, not reported.
export ASAN_OPTIONS="detect_leaks=0:handle_segv=0:handle_sigbus=0:verify_asan_link_order=0:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
MMAP_IO_SANITIZED=1 LD_PRELOAD="$preload" npx mocha
status=$?

findings=$(cat "$logs"/asan.* "$logs"/ubsan.* 2>/dev/null | grep -cE 'ERROR: (Address|Undefined)Sanitizer|runtime error:' || true)
in_src=$(cat "$logs"/asan.* "$logs"/ubsan.* 2>/dev/null | grep -c 'src/' || true)
cat "$logs"/asan.* "$logs"/ubsan.* 2>/dev/null | head -100
echo "sanitizer findings: $findings (frames in src/: $in_src)"
rm -rf "$logs"
[ "$status" -eq 0 ] && [ "$findings" -eq 0 ]
