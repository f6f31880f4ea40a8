#!/bin/sh
# Installs Debian's user-mode emulator, which benchmarks/pruning_sweep.py uses to run the
# TFLite interpreter on an emulated CPU without AVX (-cpu Nehalem), where XNNPACK turns its
# sparse kernels on. Needs root (or sudo) and Debian/Ubuntu's apt.
set -e
if command -v qemu-x86_64 >/dev/null 2>&1; then
    echo "qemu-x86_64 is already installed: $(command -v qemu-x86_64)"
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y qemu-user
qemu-x86_64 -version | head -1
