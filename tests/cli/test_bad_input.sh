#!/usr/bin/env bash
# test_bad_input.sh — TAP: the `hood` binary fed malformed inputs, options and output paths.
# Each case runs its command twice: once with nothing at the output path, once with a
# "precious" file there. Both times it must exit 1 (2 for a usage error), print exactly one
# stderr line "hood CMD: ..." that names the file or option and says what is wrong (a usage
# error may add the "Try 'hood CMD --help'." hint), leave the output folder's listing as it was
# (no new file, no temporary beside it), and leave the precious file byte-identical.
# Not a test of good inputs (tests/cli/test_cli.sh) nor of the parsers' internals (tests/fuzz).
# Usage: HOOD=/path/to/hood tests/cli/test_bad_input.sh   (meson sets HOOD; images need `vips`)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BAD=$HERE/../data/bad # committed .npz fixtures (tests/data/bad/make-bad-fixtures)
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-bad-input.XXXXXX")
pids=()
# Never leave a command behind: an interrupted run kills the case's processes first.
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
export VIPS_WARNING=0
I=$T/in # inputs; outputs go to a fresh folder per case
mkdir -p "$I"

# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"

# start_run TAG OUT CMD...: starts CMD (with @OUT@ replaced by OUT) in the background; its
# stderr goes to $T/err.TAG and its exit status to $T/rc.TAG. The two runs of a case go side
# by side: they share nothing but the inputs, and the suite takes half the time.
start_run() {
    local tag=$1 out=$2
    shift 2
    local args=() a
    for a in "$@"; do args+=("${a//@OUT@/$out}"); done
    # A hang is a failure too (exit 124), not a stuck test.
    (
        timeout -k 5 60 "${args[@]}" >/dev/null 2>"$T/err.$tag" </dev/null
        echo $? >"$T/rc.$tag"
    ) &
    pids+=($!)
}

# What is wrong with run TAG's exit status and stderr, or nothing. A message must name
# PATTERN and go on to say something: "file.png: libvips: " (an empty reason) is not a message.
# (Bash builtins only: these run ~150 times.)
judge_message() {
    local tag=$1 want=$2 pattern=$3 lines=() first rc
    rc=$(<"$T/rc.$tag")
    mapfile -t lines <"$T/err.$tag"
    first=${lines[0]:-}
    if [ "$rc" -ne "$want" ]; then
        echo "exit $rc, wanted $want"
    elif [[ ! $first =~ ^hood\ [a-z-]+:\  ]]; then
        echo "stderr does not start with 'hood CMD: '"
    elif [[ $first != *"$pattern"* ]]; then
        echo "the message does not name '$pattern'"
    elif [[ $first =~ :[[:space:]]*$ ]]; then
        echo "the message ends before saying what is wrong"
    elif [ "$want" -eq 1 ] && [ ${#lines[@]} -ne 1 ]; then
        echo "${#lines[@]} stderr lines, wanted exactly 1"
    elif [ "$want" -eq 2 ] && { [ ${#lines[@]} -gt 2 ] ||
        { [ ${#lines[@]} -eq 2 ] && [[ ${lines[1]} != "Try 'hood"* ]]; }; }; then
        echo "${#lines[@]} stderr lines, wanted the message and at most the --help hint"
    fi
}

# The names in a folder, on one line (dot files included).
listing() {
    local f names=()
    for f in "$1"/* "$1"/.[!.]*; do
        [ -e "$f" ] || [ -L "$f" ] && names+=("${f##*/}")
    done
    echo "${names[*]}"
}

# bad DESC RC PATTERN OUTNAME CMD...
# OUTNAME is the output's file name, substituted for @OUT@ in CMD. The command runs twice: in
# an empty folder A, and in a folder B where OUTNAME already holds a precious file. With a
# leading '=' OUTNAME is a fixed path (an unwritable one): one run, and nothing may appear
# there.
pids=()
bad() {
    local desc=$1 want=$2 pattern=$3 outname=$4
    shift 4
    local problems=() why fixed=0 existed=0 dir_a dir_b out_a out_b before_a before_b
    if [ "${outname:0:1}" = "=" ]; then
        fixed=1
        out_a=${outname:1}
        dir_a=$(dirname "$out_a")
        [ -e "$out_a" ] && existed=1
    else
        dir_a=$T/a$((n + 1)) dir_b=$T/b$((n + 1))
        out_a=$dir_a/$outname out_b=$dir_b/$outname
        mkdir -p "$dir_a" "$dir_b"
        printf 'precious %s\n' "$desc" >"$out_b"
        cp "$out_b" "$T/precious"
        before_b=$(listing "$dir_b")
    fi
    before_a=$(listing "$dir_a")
    pids=()
    start_run a "$out_a" "$@"
    [ "$fixed" -eq 0 ] && start_run b "$out_b" "$@"
    wait "${pids[@]}"
    pids=()

    why=$(judge_message a "$want" "$pattern")
    [ -n "$why" ] && problems+=("nothing at the output: $why")
    # (/proc's listing changes by itself: only our own folders are compared.)
    local after
    after=$(listing "$dir_a")
    [[ $dir_a == "$T"* ]] && [ "$before_a" != "$after" ] &&
        problems+=("the output folder changed: [$before_a] -> [$after]")
    [ "$existed" -eq 0 ] && [ -e "$out_a" ] && problems+=("created $out_a")
    if [ "$fixed" -eq 0 ]; then
        why=$(judge_message b "$want" "$pattern")
        [ -n "$why" ] && problems+=("existing output: $why")
        cmp -s "$out_b" "$T/precious" || problems+=("the existing output file was changed")
        after=$(listing "$dir_b")
        [ "$before_b" != "$after" ] &&
            problems+=("existing output: the folder changed: [$before_b] -> [$after]")
        rm -rf "$dir_a" "$dir_b"
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        pass "$desc"
    else
        local err
        err=$(head -c 300 "$T/err.a" | tr '\n' '|')
        fail "$desc" "${problems[@]}" "stderr: $err"
    fi
}

# ---- fixtures ------------------------------------------------------------------------------

# The seed's rows x1..xd,y from a fixed LCG: y = 1 when the even columns outweigh the odd ones.
make_csv() { # FILE ROWS FEATURES
    awk -v rows="$2" -v d="$3" 'BEGIN {
        s = 4242
        for (j = 0; j < rows; j++) {
            line = ""; a = 0; b = 0
            for (i = 0; i < d; i++) {
                s = (s * 1103515245 + 12345) % 2147483648
                v = (s % 1000) / 1000
                if (i % 2 == 0) a += v; else b += v
                line = line sprintf("%.3f,", v)
            }
            print line (a > b ? 1 : 0)
        }
    }' >"$1"
}
make_csv "$I/good.csv" 32 4
make_csv "$I/wide.csv" 32 5
L=(--layers 3:tanh,1:sigmoid --verbose 0)
if ! "$HOOD" train "$I/good.csv" -o "$I/m4.hood" "${L[@]}" --optimizer sgd --epochs 2 \
    2>"$T/err" || ! "$HOOD" export-weights "$I/m4.hood" -o "$I/w4.npz" 2>>"$T/err"; then
    echo "Bail out! cannot make the fixture model: $(head -c 300 "$T/err" | tr '\n' '|')"
    exit 1
fi

printf '0.1,0.2,0.3,1\n0.4,0.5,1\n' >"$I/ragged.csv"
printf '0.1,0.2,0.3,0.4,1\n0.1,abc,0.3,0.4,0\n' >"$I/nonnumeric.csv"
printf '0.1,0.2,0.3,0.4,1\n0.1,nan,0.3,0.4,0\n' >"$I/nan.csv"
printf '0.1,0.2,inf,0.4,1\n' >"$I/inf.csv"
: >"$I/empty.csv"
printf 'x1,x2,x3,x4,y\n' >"$I/header_only.csv"
printf '\n\n\n' >"$I/blank_lines.csv"
printf '0.1,0.2,0.3,0.4,0.5\n0.1,0.2,0.3,0.4,1\n' >"$I/half_label.csv"
printf '0.1,0.2,0.3,0.4,7\n0.5,0.6,0.7,0.8,1\n' >"$I/label7.csv"
printf 'PK\003\004 this is no zip archive at all' >"$I/garbage.npz"
head -c 150 "$I/w4.npz" >"$I/truncated.npz"
printf '\223NUMPY\001\000{garbage' >"$I/garbage.npy"
printf 'not a model' >"$I/garbage.hood"
head -c 100 "$I/m4.hood" >"$I/truncated.hood"
cp "$I/m4.hood" "$I/bitflip.hood"
size=$(wc -c <"$I/m4.hood")
# Flip one bit in the middle of the weights: only the checksum can notice.
byte=$(od -An -tu1 -j $((size - 20)) -N1 "$I/m4.hood" | tr -d ' ')
printf "\\$(printf '%03o' $((byte ^ 4)))" |
    dd of="$I/bitflip.hood" bs=1 seek=$((size - 20)) conv=notrunc 2>/dev/null
cmp -s "$I/m4.hood" "$I/bitflip.hood" && echo "Bail out! the bit flip did not happen" && exit 1
printf 'plain file\n' >"$I/afile"

have_vips=0
if command -v vips >/dev/null 2>&1; then
    have_vips=1
    vips black "$I/black.v" 8 8
    vips grey "$I/grey.v" 64 64
    vips linear "$I/grey.v" "$I/grey.png" 255 0 --uchar
    vips copy "$I/grey.png" "$I/grey.jpg"
    mk() { # FOLDER CLASS... : each class gets one good 8x8 PNG
        local d=$1 c
        shift
        for c in "$@"; do
            mkdir -p "$I/$d/$c"
            vips copy "$I/black.v" "$I/$d/$c/ok.png"
        done
    }
    mk good a b
    mkdir -p "$I/empty_dir" "$I/no_images/a" "$I/no_images/b"
    printf 'text\n' >"$I/no_images/a/readme.txt"
    mk class_without_images a
    mkdir -p "$I/class_without_images/b"
    mk zero_byte a b
    : >"$I/zero_byte/b/zero.png"
    mk truncated_png a b
    head -c 100 "$I/grey.png" >"$I/truncated_png/b/cut.png"
    mk truncated_jpg a b
    head -c 300 "$I/grey.jpg" >"$I/truncated_jpg/b/cut.jpg"
    mk random_bytes a b
    head -c 512 /dev/urandom >"$I/random_bytes/b/noise.png"
    mkdir -p "$I/all_bad/a" "$I/all_bad/b"
    : >"$I/all_bad/a/zero.png"
    head -c 512 /dev/urandom >"$I/all_bad/b/noise.jpg"
    printf 'a/ok.png,banana\n' >"$I/bad_labels.txt"
    # 159 bytes that pad to a 60000 x 60000 canvas (found by fuzzing io/image.c).
    mkdir -p "$I/strip/a"
    vips black "$I/strip/a/strip.png" 60000 1
fi

# ---- folders and images --------------------------------------------------------------------

D=(--image-size 8x8 --quiet)
if [ "$have_vips" -eq 1 ]; then
    bad "dataset: a folder that does not exist" 1 "$I/nope" x.npz \
        "$HOOD" dataset "$I/nope" -o @OUT@ "${D[@]}"
    bad "dataset: an empty folder" 1 "$I/empty_dir" x.npz \
        "$HOOD" dataset "$I/empty_dir" -o @OUT@ "${D[@]}"
    bad "dataset: class folders without any image" 1 "$I/no_images" x.csv \
        "$HOOD" dataset "$I/no_images" -o @OUT@ "${D[@]}"
    bad "dataset: one class folder without images" 1 "class_without_images/b" x.npz \
        "$HOOD" dataset "$I/class_without_images" -o @OUT@ "${D[@]}"
    bad "dataset --strict: a zero-byte image" 1 "zero.png" x.npz \
        "$HOOD" dataset "$I/zero_byte" -o @OUT@ "${D[@]}" --strict
    bad "dataset --strict: a truncated PNG" 1 "cut.png" x.npz \
        "$HOOD" dataset "$I/truncated_png" -o @OUT@ "${D[@]}" --strict
    bad "dataset --strict: a truncated JPEG" 1 "cut.jpg" x.npz \
        "$HOOD" dataset "$I/truncated_jpg" -o @OUT@ "${D[@]}" --strict
    bad "dataset --strict: random bytes named .png" 1 "noise.png" x.npz \
        "$HOOD" dataset "$I/random_bytes" -o @OUT@ "${D[@]}" --strict
    bad "dataset: every image unreadable (no --strict)" 1 "$I/all_bad" x.npz \
        "$HOOD" dataset "$I/all_bad" -o @OUT@ "${D[@]}"
    bad "train: every image of the folder unreadable (no --strict)" 1 "$I/all_bad" m.hood \
        "$HOOD" train "$I/all_bad" -o @OUT@ "${D[@]}" "${L[@]}"
    bad "train --strict: a truncated JPEG in the folder" 1 "cut.jpg" m.hood \
        "$HOOD" train "$I/truncated_jpg" -o @OUT@ "${D[@]}" "${L[@]}" --strict
    bad "--image-size 0x5" 2 "--image-size" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ --image-size 0x5 --quiet
    bad "--image-size 100000x100000: refused before allocating" 2 "--image-size" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ --image-size 100000x100000 --quiet
    bad "--image-size 65535x65535 rgb: 2 images that cannot fit in memory" 1 "65535" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ --image-size 65535x65535 --color-mode rgb --quiet
    bad "--pad-to-aspect-ratio: a 60000 x 1 strip, refused before padding" 1 "strip.png" x.npz \
        "$HOOD" dataset "$I/strip" -o @OUT@ "${D[@]}" --pad-to-aspect-ratio --strict
    bad "--validation-split 1.5" 2 "--validation-split" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}" --validation-split 1.5 --subset both
    bad "dataset: --validation-split with shuffling but no --seed (usage)" 2 "--seed" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}" --validation-split 0.5 --subset both
    bad "dataset: --validation-split --subset training, no --seed (usage)" 2 "--seed" x.csv \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}" --validation-split 0.5 --subset training
    bad "train: --validation-split on a folder, shuffling, no --seed (usage)" 2 "--seed" m.hood \
        "$HOOD" train "$I/good" -o @OUT@ "${D[@]}" "${L[@]}" --validation-split 0.5
    bad "--labels: a label that is not a class index" 1 "bad_labels.txt" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}" --labels "$I/bad_labels.txt"
    bad "--labels: a labels file that does not exist" 1 "$I/nope.txt" x.npz \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}" --labels "$I/nope.txt"
    bad "dataset: an output format it cannot write (.txt)" 1 "x.txt" x.txt \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}"
    bad "dataset: two DIR operands (usage)" 2 "DIR" x.npz \
        "$HOOD" dataset "$I/good" "$I/good" -o @OUT@ "${D[@]}"
else
    for d in "missing folder" "empty folder" "no images" "class without images" "zero-byte" \
        "truncated png" "truncated jpg" "random bytes" "all bad" "train all bad" \
        "train truncated" "0x5" "100000x100000" "65535x65535" "strip" "validation-split" \
        "split without --seed" "training split without --seed" "train split without --seed" \
        "labels" "labels missing" ".txt" "usage"; do
        skip "dataset: $d" "no vips CLI (libvips-tools)"
    done
fi

# ---- CSV, .npz, .npy -----------------------------------------------------------------------

bad "CSV: ragged rows" 1 "ragged.csv" m.hood "$HOOD" train "$I/ragged.csv" -o @OUT@ "${L[@]}"
bad "CSV: a non-numeric field" 1 "nonnumeric.csv" m.hood \
    "$HOOD" train "$I/nonnumeric.csv" -o @OUT@ "${L[@]}"
bad "CSV: a NaN field" 1 "nan.csv" m.hood "$HOOD" train "$I/nan.csv" -o @OUT@ "${L[@]}"
bad "CSV: an inf field" 1 "inf.csv" m.hood "$HOOD" train "$I/inf.csv" -o @OUT@ "${L[@]}"
bad "CSV: an empty file" 1 "empty.csv" m.hood "$HOOD" train "$I/empty.csv" -o @OUT@ "${L[@]}"
bad "CSV: a header row only" 1 "header_only.csv" m.hood \
    "$HOOD" train "$I/header_only.csv" -o @OUT@ "${L[@]}"
bad "CSV: blank lines only" 1 "blank_lines.csv" m.hood \
    "$HOOD" train "$I/blank_lines.csv" -o @OUT@ "${L[@]}"
bad "CSV: a label of 0.5 for a softmax" 1 "half_label.csv" m.hood \
    "$HOOD" train "$I/half_label.csv" -o @OUT@ --layers 2:softmax --verbose 0
bad "CSV: label 7 for a 3-class softmax names the data file" 1 "label7.csv" m.hood \
    "$HOOD" train "$I/label7.csv" -o @OUT@ --layers 3:softmax --verbose 0
bad "CSV: a data file that does not exist" 1 "$I/nope.csv" m.hood \
    "$HOOD" train "$I/nope.csv" -o @OUT@ "${L[@]}"
bad ".npz: garbage bytes" 1 "garbage.npz" m.hood "$HOOD" train "$I/garbage.npz" -o @OUT@ "${L[@]}"
bad ".npz: truncated" 1 "truncated.npz" m.hood \
    "$HOOD" train "$I/truncated.npz" -o @OUT@ "${L[@]}"
bad ".npz: x has 5 rows, y 4 labels" 1 "xy_mismatch.npz" m.hood \
    "$HOOD" train "$BAD/xy_mismatch.npz" -o @OUT@ "${L[@]}"
bad ".npz: a NaN in x" 1 "x_nan.npz" m.hood "$HOOD" train "$BAD/x_nan.npz" -o @OUT@ "${L[@]}"
bad ".npz: no x array" 1 "no_x.npz" m.hood "$HOOD" train "$BAD/no_x.npz" -o @OUT@ "${L[@]}"
bad ".npz: x with 5 dimensions" 1 "x_5d.npz" m.hood \
    "$HOOD" train "$BAD/x_5d.npz" -o @OUT@ "${L[@]}"
bad ".npz: x of strings" 1 "x_strings.npz" m.hood \
    "$HOOD" train "$BAD/x_strings.npz" -o @OUT@ "${L[@]}"
bad ".npy: garbage header (dataset from it)" 1 "garbage.npy" m.hood \
    "$HOOD" train "$I/garbage.npy" -o @OUT@ "${L[@]}"
bad "--validation-data: garbage .npz" 1 "garbage.npz" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --validation-data "$I/garbage.npz"

# ---- model options and shapes --------------------------------------------------------------

bad "unknown activation" 2 "swish" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --layers 3:swish,1:sigmoid --verbose 0
bad "unknown optimizer" 2 "adagrad" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --optimizer adagrad
bad "unknown loss" 2 "hinge" m.hood "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --loss hinge
bad "unknown initializer" 2 "lecun" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --initializer lecun
bad "--layers with 0 units" 2 "--layers" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --layers 0:relu,1:sigmoid --verbose 0
bad "--layers with -3 units" 2 "--layers" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --layers -3:relu,1:sigmoid --verbose 0
bad "--layers too big for memory" 1 "--layers" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --layers 1000000:relu,1000000:relu --verbose 0
bad "--epochs -1" 2 "--epochs" m.hood "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --epochs -1
bad "--epochs -1" 2 "--epochs" m.hood "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --epochs -1
bad "--batch-size 0" 2 "--batch-size" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --batch-size 0
bad "--learning-rate -1" 2 "--learning-rate" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --learning-rate -1
bad "--learning-rate nan" 2 "--learning-rate" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --learning-rate nan
bad "--momentum 1.5" 2 "--momentum" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --optimizer sgd --momentum 1.5
bad "train --validation-split 1.5" 2 "--validation-split" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --validation-split 1.5
bad "--checkpoint-every 0" 2 "--checkpoint-every" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --checkpoint-every 0
bad "--threads -1" 2 "--threads" m.hood "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --threads -1
bad "train: an unknown option (usage)" 2 "--bogus" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --bogus
bad "train: --resume with --init-weights (usage)" 2 "--init-weights" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --resume "$I/m4.hood" --init-weights "$I/w4.npz"
bad "wrong input width: a 4-feature model resumed on 5 features" 1 "wide.csv" m.hood \
    "$HOOD" train "$I/wide.csv" -o @OUT@ --resume "$I/m4.hood" --epochs 3 --verbose 0
bad "wrong input width: --evaluate after training on 5-feature data" 1 "wide.csv" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --evaluate "$I/wide.csv"
bad "--init-weights: kernels of the wrong shape" 1 "w4.npz" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --layers 5:tanh,1:sigmoid --verbose 0 \
    --init-weights "$I/w4.npz"
bad "--init-weights: too few layers in the file" 1 "w4.npz" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --layers 3:tanh,2:tanh,1:sigmoid --verbose 0 \
    --init-weights "$I/w4.npz"
bad "--init-weights: input width 5 against kernels of 4" 1 "w4.npz" m.hood \
    "$HOOD" train "$I/wide.csv" -o @OUT@ "${L[@]}" --init-weights "$I/w4.npz"
bad "--init-weights: garbage file" 1 "garbage.npz" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --init-weights "$I/garbage.npz"

# ---- model files ---------------------------------------------------------------------------

bad "model file: garbage (export-weights)" 1 "garbage.hood" w.npz \
    "$HOOD" export-weights "$I/garbage.hood" -o @OUT@
bad "model file: truncated (export-weights)" 1 "truncated.hood" w.npz \
    "$HOOD" export-weights "$I/truncated.hood" -o @OUT@
bad "model file: one bit flipped in the weights (export-weights)" 1 "bitflip.hood" w.npz \
    "$HOOD" export-weights "$I/bitflip.hood" -o @OUT@
bad "model file: an empty file (export-weights)" 1 "empty.csv" w.npz \
    "$HOOD" export-weights "$I/empty.csv" -o @OUT@
bad "--resume: a bit-flipped checkpoint" 1 "bitflip.hood" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --resume "$I/bitflip.hood" --epochs 3 --verbose 0
bad "--resume: a truncated checkpoint" 1 "truncated.hood" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ --resume "$I/truncated.hood" --epochs 3 --verbose 0
bad "evaluate: a truncated model file" 1 "truncated.hood" - \
    "$HOOD" evaluate "$I/truncated.hood" "$I/good.csv"
bad "info: a bit-flipped model file" 1 "bitflip.hood" - "$HOOD" info "$I/bitflip.hood"

# ---- output paths --------------------------------------------------------------------------

bad "output in a folder that does not exist" 1 "$T/no/such/dir/m.hood" "=$T/no/such/dir/m.hood" \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}"
# Tests run as root, where a read-only folder still takes writes: a path under a regular file
# cannot be written by anyone.
bad "output under a regular file" 1 "afile/m.hood" "=$I/afile/m.hood" \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}"
bad "output in /proc" 1 "/proc/hood-test.hood" "=/proc/hood-test.hood" \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}"
bad "output is a folder" 1 "$I" "=$I" "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}"
bad "export-weights: output under a regular file" 1 "afile/w.npz" "=$I/afile/w.npz" \
    "$HOOD" export-weights "$I/m4.hood" -o @OUT@
bad "--history under a regular file: no model written either" 1 "afile/h.csv" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --history "$I/afile/h.csv"
bad "--checkpoint under a regular file: no model written either" 1 "afile/ck.hood" m.hood \
    "$HOOD" train "$I/good.csv" -o @OUT@ "${L[@]}" --checkpoint "$I/afile/ck.hood"
if [ "$have_vips" -eq 1 ]; then
    bad "dataset: output under a regular file" 1 "afile/x.npz" "=$I/afile/x.npz" \
        "$HOOD" dataset "$I/good" -o @OUT@ "${D[@]}"
else
    skip "dataset: output under a regular file" "no vips CLI (libvips-tools)"
fi

# The fixture inputs themselves are never touched by a failing command.
if "$HOOD" info "$I/m4.hood" >/dev/null 2>&1 && ! ls -A "$I" | grep -q '\.tmp\.'; then
    pass "inputs intact, no temporaries among them"
else
    fail "inputs intact, no temporaries among them" "$(ls -A "$I" | tr '\n' ' ')"
fi

echo "1..$n"
exit 0
