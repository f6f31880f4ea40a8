#!/bin/bash
# The sensing runtime on an emulated Raspberry Pi, against this x86-64 machine.
#
# Usage (as root, on an x86-64 Debian or Ubuntu machine with network):
#     benchmarks/pi_emulated.sh [--cache DIR] [--pruned-run DIR] [--cpu cortex-a72]
#                               [--minutes 10] [--radar-minutes 30] [--out DIR]
#
# 1. builds a Debian bookworm arm64 root (what Raspberry Pi OS is) with debootstrap and
#    qemu-user-static, kept in the cache folder, so a second run takes minutes;
# 2. installs the checkout there the way a Pi user does (a venv and `pip install -e .`:
#    the aarch64 wheels of numpy, soundfile and ai-edge-litert, no TensorFlow);
# 3. on both machines: `sensing detect` on a generated night, `sensing sleep` on a simulated
#    radar night, the dense and the 80% pruned sparse model (and the bundled ones) on fixed
#    inputs, `sensing bench` of the pruned weights stored dense and sparse, and on arm64
#    `sensing check-sparse`; the same bench also runs under qemu-x86_64 -cpu Nehalem (x86-64
#    without AVX, where XNNPACK's sparse kernels also switch on);
# 4. compares events, epochs and outputs (benchmarks/pi_compare.py) and writes a summary to
#    OUT/report.md (default CACHE/report); exits 1 when the machines disagree.
#
# The emulated CPU is a Cortex-A72 (Raspberry Pi 4; --cpu cortex-a76 for a Pi 5), chosen with
# QEMU_CPU. Emulated times are instruction-level proxies (qemu translates each instruction; a
# Pi's pipeline, caches and memory are not modelled): only the ratio of two models timed side
# by side means anything, never a time itself.
#
# Without --pruned-run (a finished `sensing prune --sparsity 0.8` run folder), a small model is
# trained and pruned here on generated clips (a few minutes, needs the [train] extra): its
# figures describe speed and agreement, not accuracy.
#
# Cache (default ${XDG_CACHE_HOME:-~/.cache}/sensing-pi, or $SENSING_PI_CACHE): root/ (the arm64
# root, about 600 MB with the venv), pruned/ (the generated model), report/.
set -euE
trap 'echo "pi_emulated.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${SENSING_PI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sensing-pi}
CPU=cortex-a72
PRUNED_RUN=""
MINUTES=10
RADAR_MINUTES=30
OUT=""
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-python3}
ROOT_PACKAGES=python3,python3-venv,python3-pip,ca-certificates,libsndfile1
VENV=/opt/sensing-venv
SRC=/opt/sensing-src

die() {
    echo "pi_emulated.sh: $*" >&2
    exit 1
}
usage() {
    sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    exit "${1:-0}"
}
# logged LOG COMMAND...: the command's output into LOG; on failure, its end and a one-line error.
logged() {
    log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        tail -n 5 "$log" >&2
        die "failed: ${*:1:3}... (log: $log)"
    fi
}
STARTED=$(date +%s)
step() {
    printf '[%4ss] %s\n' "$(($(date +%s) - STARTED))" "$*"
}

while [ $# -gt 0 ]; do
    case $1 in
    --cache) CACHE=${2:?--cache needs a folder}; shift 2 ;;
    --pruned-run) PRUNED_RUN=${2:?--pruned-run needs a run folder}; shift 2 ;;
    --cpu) CPU=${2:?--cpu needs a qemu CPU name}; shift 2 ;;
    --minutes) MINUTES=${2:?--minutes needs a number}; shift 2 ;;
    --radar-minutes) RADAR_MINUTES=${2:?--radar-minutes needs a number}; shift 2 ;;
    --out) OUT=${2:?--out needs a folder}; shift 2 ;;
    -h | --help) usage 0 ;;
    *) echo "pi_emulated.sh: unknown option $1" >&2; usage 2 >&2 ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts): run it with sudo"
[ "$(uname -m)" = x86_64 ] || die "runs on an x86-64 machine; this one is $(uname -m)"
command -v apt-get >/dev/null || die "needs a Debian-like system with apt-get"
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
ROOT=$CACHE/root
OUT=${OUT:-$CACHE/report}
if [ -n "$PRUNED_RUN" ]; then
    PRUNED_RUN=$(cd "$PRUNED_RUN" 2>/dev/null && pwd) || die "--pruned-run: no such folder"
    [ -f "$PRUNED_RUN/model.tflite" ] && [ -f "$PRUNED_RUN/model_sparse.tflite" ] ||
        die "--pruned-run $PRUNED_RUN: no model.tflite and model_sparse.tflite (a finished sensing prune run?)"
fi
# The emulated CPU as a Pi's kernel lists it in /proc/cpuinfo: variant, part number, revision.
case $CPU in
cortex-a53) cpu_id="0x0 0xd03 4" ;;
cortex-a57) cpu_id="0x1 0xd07 1" ;;
cortex-a72) cpu_id="0x0 0xd08 3" ;;
cortex-a76) cpu_id="0x4 0xd0b 1" ;;
*) die "--cpu $CPU: choose cortex-a53, cortex-a57, cortex-a72 (Pi 4) or cortex-a76 (Pi 5)" ;;
esac
PYEXE=$("$PYTHON" -c 'import sensing, sys; print(sys.executable)' 2>/dev/null) ||
    die "the project is not installed for $PYTHON here: python3 -m pip install -e '.[train]' (or set PYTHON)"

exec 9>"$CACHE/lock"
flock -n 9 || die "another pi_emulated.sh is using $CACHE"

# Mounts under the root, deepest first; every exit (an error, Ctrl-C) unmounts them.
root_mounts() {
    awk -v root="$ROOT/" -v partial="$ROOT.partial/" \
        'index($2, root) == 1 || index($2, partial) == 1 { print $2 }' /proc/mounts | sort -r
}
unmount_root() {
    for mounted in $(root_mounts); do
        umount "$mounted" 2>/dev/null || umount -l "$mounted" || true
    done
}
trap unmount_root EXIT
trap 'exit 130' INT TERM
unmount_root # left by a killed run

# 1. Host tools: debootstrap, qemu-user-static (qemu-aarch64 and qemu-x86_64), binfmt_misc.
missing=""
command -v debootstrap >/dev/null || missing="$missing debootstrap"
[ -x /usr/bin/qemu-aarch64-static ] && [ -x /usr/bin/qemu-x86_64-static ] || missing="$missing qemu-user-static"
command -v update-binfmts >/dev/null || missing="$missing binfmt-support"
command -v wget >/dev/null || missing="$missing wget"
if [ -n "$missing" ]; then
    step "installing$missing"
    apt-get update -qq || die "apt-get update failed (no network?)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        die "apt-get could not install$missing"
fi
BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e "$BINFMT/register" ]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT" || die "cannot mount binfmt_misc at $BINFMT"
fi
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
    step "registering qemu-aarch64 with binfmt_misc"
    if [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
        grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf >"$BINFMT/register" ||
            die "cannot register qemu-aarch64 with binfmt_misc"
    else
        update-binfmts --enable qemu-aarch64 || die "cannot register qemu-aarch64 with binfmt_misc"
    fi
fi
head -1 "$BINFMT/qemu-aarch64" | grep -q enabled || die "qemu-aarch64 is registered but disabled in $BINFMT"
grep -q '^flags:.*F' "$BINFMT/qemu-aarch64" ||
    die "qemu-aarch64 is registered without the F flag, so a chroot cannot find it: reinstall qemu-user-static"

# 2. The arm64 root. debootstrap removes ROOT/debootstrap when it finishes.
if [ -x "$ROOT/usr/bin/python3" ] && [ ! -e "$ROOT/debootstrap" ]; then
    step "arm64 root: $ROOT (cached)"
else
    wget -q --spider "$MIRROR/dists/bookworm/Release" || die "no network for debootstrap: cannot reach $MIRROR"
    [ -z "$(root_mounts)" ] || die "$ROOT still has mounts; unmount them first"
    rm -rf --one-file-system "$ROOT" "$ROOT.partial"
    step "building the arm64 root with debootstrap (tens of minutes; log: $CACHE/debootstrap.log)"
    debootstrap --arch=arm64 --variant=minbase --include="$ROOT_PACKAGES" bookworm "$ROOT.partial" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed: see $CACHE/debootstrap.log"
    mv "$ROOT.partial" "$ROOT"
fi

# Commands in the root: a clean environment, the emulated CPU, the host's DNS, CA and proxies.
PASS=(PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin" HOME=/root LANG=C.UTF-8 QEMU_CPU="$CPU"
    SENSING_TFLITE_BACKEND=ai_edge_litert PIP_DISABLE_PIP_VERSION_CHECK=1)
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY PIP_INDEX_URL PIP_EXTRA_INDEX_URL; do
    if [ -n "${!name-}" ]; then PASS+=("$name=${!name}"); fi
done
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/host-ca-certificates.crt"
    PASS+=(PIP_CERT=/etc/ssl/host-ca-certificates.crt)
fi
rm -f "$ROOT/etc/resolv.conf"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
CHROOT=$(command -v chroot) || die "needs chroot (coreutils)"
in_pi() {
    env -i "${PASS[@]}" "$CHROOT" "$ROOT" "$@"
}
# qemu-user shows the host's /proc/cpuinfo and /sys, which crash the CPU detection of XNNPACK
# (cpuinfo) in ai-edge-litert: describe the emulated CPU as a Pi's kernel would, four cores.
FAKE=$CACHE/cpu-$CPU
rm -rf "$FAKE"
mkdir -p "$FAKE/sys/devices/system/cpu"
set -- $cpu_id
for core in 0 1 2 3; do
    printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n' "$core"
    printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\n' "$1" "$2"
    printf 'CPU revision\t: %s\n\n' "$3"
    mkdir -p "$FAKE/sys/devices/system/cpu/cpu$core"
done >"$FAKE/cpuinfo"
for list in present possible online; do echo 0-3 >"$FAKE/sys/devices/system/cpu/$list"; done
mount -t proc proc "$ROOT/proc"
mount --bind "$FAKE/cpuinfo" "$ROOT/proc/cpuinfo"
mount --bind /dev "$ROOT/dev"
mount --bind "$FAKE/sys" "$ROOT/sys"

if env -i QEMU_CPU=no-such-cpu "$CHROOT" "$ROOT" /bin/true 2>/dev/null; then
    die "qemu-aarch64 ignores QEMU_CPU here, so the emulated CPU cannot be chosen"
fi
in_pi /bin/true || die "qemu-aarch64 rejects QEMU_CPU=$CPU (see qemu-aarch64-static -cpu help)"
step "emulated CPU: $CPU ($(qemu-aarch64-static --version | head -1))"

# 3. The runtime, installed as on a Pi: a venv and pip install -e of the checkout.
step "copying the checkout to $SRC"
rm -rf --one-file-system "${ROOT:?}$SRC"
mkdir -p "$ROOT$SRC"
if git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$ROOT$SRC"
else
    tar -C "$REPO" --exclude=.git --exclude=runs --exclude='*.egg-info' -cf - . | tar -xf - -C "$ROOT$SRC"
fi
STAMP=$(cat "$REPO/setup.cfg" "$REPO/pyproject.toml" "$REPO/.ci/constraints.txt" | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT$VENV/.installed" 2>/dev/null)" = "$STAMP" ]; then
    step "runtime: installed earlier in $VENV"
else
    step "pip install -e . in the arm64 root (aarch64 wheels from PyPI; several minutes under emulation)"
    [ -x "$ROOT$VENV/bin/python" ] || in_pi python3 -m venv "$VENV"
    in_pi pip install -q --only-binary=numpy,soundfile,ai-edge-litert -c "$SRC/.ci/constraints.txt" -e "$SRC" ||
        die "pip install in the arm64 root failed (no network, or no aarch64 wheel for Python 3.11?)"
    echo "$STAMP" >"$ROOT$VENV/.installed"
fi
in_pi python -c 'import tensorflow' 2>/dev/null && die "TensorFlow is installed in the arm64 root; the Pi runtime must not need it"
in_pi sensing --version >/dev/null || die "sensing does not run in the arm64 root"

# 4. Inputs, on the host: a night of audio, a radar night, the dense and pruned models.
WORK=/srv/sensing-pi
HOST_WORK=$ROOT$WORK
mkdir -p "$HOST_WORK/inputs" "$HOST_WORK/models"
NIGHT=inputs/night_${MINUTES}min_seed0.wav
RADAR=inputs/radar_${RADAR_MINUTES}min_seed0/night_000.npz
if [ ! -f "$HOST_WORK/$NIGHT" ]; then
    step "generating a $MINUTES-minute night of audio"
    logged "$CACHE/inputs.log" "$PYEXE" "$REPO/samples/make_night.py" --out "$HOST_WORK/$NIGHT" \
        --minutes "$MINUTES" --seed 0
fi
if [ ! -f "$HOST_WORK/$RADAR" ]; then
    step "simulating a $RADAR_MINUTES-minute radar night"
    rm -rf "$HOST_WORK/$(dirname "$RADAR")"
    logged "$CACHE/inputs.log" "$PYEXE" -m sensing simulate radar --out "$HOST_WORK/$(dirname "$RADAR")" \
        --hours "$(awk -v m="$RADAR_MINUTES" 'BEGIN { print m / 60 }')" --seed 0
fi
if [ -z "$PRUNED_RUN" ]; then
    PRUNED_RUN=$CACHE/pruned/run80
    if ! grep -qs '"status": "finished"' "$PRUNED_RUN/config.json"; then
        "$PYEXE" -c 'import tensorflow' 2>/dev/null ||
            die "no --pruned-run and no TensorFlow here to make one: pip install -e '.[train]', or pass --pruned-run DIR"
        step "no --pruned-run: training a small model on generated clips and pruning it to 80% (a few minutes)"
        rm -rf "$CACHE/pruned"
        mkdir -p "$CACHE/pruned"
        (
            cd "$CACHE/pruned"
            "$PYEXE" "$REPO/samples/make_clips.py" --out clips --clips-per-label 16 --seed 3
            "$PYEXE" -m sensing train audio --data clips/manifest.csv --out base --epochs 3 --batch-size 32
            "$PYEXE" -m sensing prune --run base --out run80 --sparsity 0.8 --epochs 2
        ) >"$CACHE/pruned.log" 2>&1 || die "training or pruning failed: see $CACHE/pruned.log"
    fi
fi
cp "$PRUNED_RUN/model.tflite" "$HOST_WORK/models/dense.tflite"
cp "$PRUNED_RUN/model_sparse.tflite" "$HOST_WORK/models/sparse.tflite"
step "models: the weights of $PRUNED_RUN stored dense (dense.tflite) and sparse (sparse.tflite)"

# 5. The same commands on both machines: run_all MACHINE FOLDER SOURCE RUNNER, where FOLDER is
# the work folder and SOURCE the checkout as that machine sees them, and RUNNER runs a command.
# Each command's output goes to a log beside its results, shown when it fails.
on_host() {
    command=$1
    shift
    [ "$command" = sensing ] && set -- -m sensing "$@"
    env SENSING_TFLITE_BACKEND=ai_edge_litert "$PYEXE" "$@"
}
run_all() {
    machine=$1 base=$2 source=$3 runner=$4
    logs=$HOST_WORK/$machine/logs
    rm -rf "${HOST_WORK:?}/$machine"
    mkdir -p "$logs"
    step "$machine: sensing detect on the $MINUTES-minute night"
    logged "$logs/detect.log" $runner sensing detect "$base/$NIGHT" --out "$base/$machine/detect" --threads 1
    step "$machine: sensing sleep on the $RADAR_MINUTES-minute radar night"
    logged "$logs/sleep.log" $runner sensing sleep "$base/$RADAR" --out "$base/$machine/sleep" --threads 1
    step "$machine: model outputs on fixed inputs"
    logged "$logs/outputs.log" $runner python "$source/benchmarks/pi_compare.py" outputs \
        --out "$base/$machine" --night "$base/$NIGHT" --radar "$base/$RADAR" \
        --audio-model "dense=$base/models/dense.tflite" --audio-model "sparse=$base/models/sparse.tflite" \
        --audio-model "bundled=$source/sensing/models/cough_snore.tflite" \
        --audio-model "bundled_micro=$source/sensing/models/cough_snore_micro.tflite"
    step "$machine: sensing bench, the pruned weights stored dense against stored sparse"
    $runner sensing bench --model "$base/models/dense.tflite" "$base/models/sparse.tflite" --threads 1 \
        --seconds 30 --json >"$HOST_WORK/$machine/bench.json" 2>"$logs/bench.log" ||
        { tail -n 5 "$logs/bench.log" >&2; die "$machine: sensing bench failed (log: $logs/bench.log)"; }
    # exit 1 means "not sparse-ready", which the report says
    $runner sensing check-sparse --json "$base/models/sparse.tflite" >"$HOST_WORK/$machine/check_sparse.json" ||
        { rc=$?; [ "$rc" -eq 1 ] || die "$machine: sensing check-sparse failed (exit $rc)"; }
}
run_all x86 "$HOST_WORK" "$REPO" on_host
step "x86-64 without AVX (qemu-x86_64 -cpu Nehalem): sensing bench, dense-stored against sparse"
env SENSING_TFLITE_BACKEND=ai_edge_litert qemu-x86_64-static -cpu Nehalem "$PYEXE" -m sensing bench \
    --model "$HOST_WORK/models/dense.tflite" "$HOST_WORK/models/sparse.tflite" --threads 1 --seconds 30 \
    --json >"$HOST_WORK/x86/bench_noavx.json" 2>"$HOST_WORK/x86/logs/bench_noavx.log" ||
    die "the bench under qemu-x86_64 failed (log: $HOST_WORK/x86/logs/bench_noavx.log)"
run_all arm "$WORK" "$SRC" in_pi

# 6. The comparison.
mkdir -p "$OUT"
status=0
"$PYEXE" "$REPO/benchmarks/pi_compare.py" report --x86 "$HOST_WORK/x86" --arm "$HOST_WORK/arm" \
    --out "$OUT/report.md" --cpu "$CPU" --qemu "$(qemu-aarch64-static --version | head -1)" || status=$?
step "done in $(($(date +%s) - STARTED)) s; summary: $OUT/report.md, outputs: $HOST_WORK"
exit "$status"
