#!/usr/bin/env bash
# test_valgrind.sh — the CLI's happy paths under valgrind memcheck: no invalid reads or
# writes, no definitely-lost leaks (third-party noise: tests/valgrind.supp). TAP output.
# Usage: HOOD=/path/to/hood SUPP=tests/valgrind.supp tests/cli/test_valgrind.sh
set -u

HOOD=${HOOD:?set HOOD to the built hood binary}
SUPP=${SUPP:?set SUPP to tests/valgrind.supp}
if ! command -v valgrind >/dev/null || ! command -v vips >/dev/null; then
    echo "Bail out! valgrind and vips (libvips-tools) are needed; run scripts/setup"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-valgrind.XXXXXX")
trap 'rm -rf "$T"' EXIT
# libvips' dlopen'ed modules pull in libhwy, whose RDTSCP valgrind rejects on this CPU
# (docs/build-notes.md §3); without modules png/jpeg are still built in.
export VIPSHOME=/nonexistent VIPS_WARNING=0

# A tiny two-class folder of 6x6 grey PNGs: class a dark, class b bright, noise in between.
for i in 0 1 2 3 4 5; do
    mkdir -p "$T/img/a" "$T/img/b"
    vips black "$T/base.v" 6 6 || exit 1
    vips linear "$T/base.v" "$T/img/a/$i.png" 1 $((10 + i * 7)) --uchar || exit 1
    vips linear "$T/base.v" "$T/img/b/$i.png" 1 $((200 + i * 7)) --uchar || exit 1
done

n=0
memcheck() {
    local desc=$1
    shift
    n=$((n + 1))
    if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --suppressions="$SUPP" "$HOOD" "$@" >"$T/out" 2>"$T/err"; then
        echo "ok $n - valgrind: $desc"
    else
        echo "not ok $n - valgrind: $desc (exit $?)"
        sed 's/^/#   /' "$T/err" | head -n 60
    fi
}

memcheck "dataset folder -> npz" dataset "$T/img" -o "$T/d.npz" --image-size 6x6 --quiet
memcheck "dataset folder -> csv" dataset "$T/img" -o "$T/d.csv" --image-size 6x6 --quiet
memcheck "dataset --subset both (two outputs committed together)" dataset "$T/img" \
    -o "$T/s.npz" --image-size 6x6 --validation-split 0.5 --subset both --seed 1 --quiet
memcheck "train on npz" train "$T/d.npz" -o "$T/m.hood" --layers 4:relu,2:softmax \
    --optimizer adam --epochs 3 --batch-size 4 --verbose 0
memcheck "train on an image folder with validation" train "$T/img" -o "$T/m2.hood" \
    --image-size 6x6 --layers 3:tanh,1:sigmoid --optimizer sgd --epochs 2 --verbose 0 \
    --validation-split 0.25 --seed 1
memcheck "train on csv with checkpoint" train "$T/d.csv" -o "$T/m3.hood" \
    --layers 4:relu,2:softmax --epochs 2 --checkpoint "$T/ck.hood" --verbose 0
memcheck "evaluate" evaluate "$T/m.hood" "$T/d.npz"
memcheck "predict images" predict "$T/m2.hood" "$T/img/a/0.png" "$T/img/b"
memcheck "info" info "$T/m.hood"
memcheck "export-weights" export-weights "$T/m.hood" -o "$T/w.npz"
memcheck "train from --init-weights" train "$T/d.npz" -o "$T/m4.hood" \
    --layers 4:relu,2:softmax --epochs 1 --init-weights "$T/w.npz" --verbose 0
echo "1..$n"
