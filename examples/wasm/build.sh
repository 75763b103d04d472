#!/bin/sh
# Rebuilds structs.wasm from structs.c (Debian: apt-get install clang lld). The module imports its
# memory (env.memory), so JavaScript creates the WebAssembly.Memory and puts a Heap in it; its own
# data and stack end at the exported __heap_base.
set -e
cd "$(dirname "$0")"
clang --target=wasm32 -O2 -nostdlib \
  -Wl,--no-entry -Wl,--export-all -Wl,--import-memory \
  -o structs.wasm structs.c
