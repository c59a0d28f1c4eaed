#!/usr/bin/env bash
# test_hostile.sh — TAP: `hood` against what a hostile or unlucky user gives it (issue 17):
# inputs that are not regular files (FIFOs, /dev/zero, /dev/urandom) refused at once by name;
# outputs all-or-nothing (stdout on /dev/full or a full disk, SIGKILL mid-write: the old file
# byte-identical, no temporary left); legal 250-byte output names; two outputs naming one file
# a usage error; integer labels for a categorical_crossentropy model one-hot to its classes.
# Every command runs under `timeout` so a hang fails a case instead of blocking the suite.
# Not signals in each phase (test_kill_resume.sh) nor malformed files (test_bad_input.sh).
# Usage: HOOD=/path/to/hood tests/cli/test_hostile.sh   (images need /usr/bin/python3 + PIL)
set -u

HOOD=${HOOD:-${1:-}}
if [ -z "$HOOD" ] || [ ! -x "$HOOD" ]; then
    echo "Bail out! set HOOD to the built hood binary"
    exit 1
fi
HOOD=$(cd "$(dirname "$HOOD")" && pwd)/$(basename "$HOOD")
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/hood-hostile.XXXXXX")
MNT=
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export VIPS_WARNING=0
cd "$T" || exit 1

# shellcheck source=../tap.sh
. "$HERE/../tap.sh"

# ---- inputs --------------------------------------------------------------------------------
# d.csv: 2 features, class column 0/1. m.hood: a model trained on it. w.npz: its weights.
printf '0.1,0.2,0\n0.3,0.1,1\n0.5,0.5,0\n0.9,0.2,1\n0.2,0.8,1\n0.7,0.3,0\n' >d.csv
"$HOOD" train d.csv -o m.hood --layers 4:relu,2:softmax --epochs 2 --seed 1 >/dev/null 2>&1 &&
    "$HOOD" export-weights m.hood -o w.npz >/dev/null 2>&1 ||
    { echo "Bail out! cannot train the fixture model"; exit 1; }
mkfifo fifo.csv fifo.npz fifo.hood fifo.txt
ln -s /dev/zero zero.csv
ln -s /dev/zero zero.hood
ln -s /dev/urandom random.csv
PY=/usr/bin/python3
have_images=0
if [ -x "$PY" ] && "$PY" -c 'import PIL' 2>/dev/null; then
    "$PY" - <<'EOF' && have_images=1
import os
from PIL import Image
for c in ("a", "b"):
    os.makedirs("imgs/" + c, exist_ok=True)
    for i in range(4):
        Image.new("RGB", (8, 8), (i * 60, 20 if c == "a" else 200, 0)).save(f"imgs/{c}/{i}.png")
EOF
fi
no_images="needs /usr/bin/python3 with PIL to draw the image folder"

# run_cmd LIMIT_KB CMD...: runs CMD under `timeout 10` (and `ulimit -v LIMIT_KB` unless 0) in a
# subshell, stdin from /dev/null, stdout discarded; sets rc and err (its stderr).
run_cmd() {
    local limit=$1
    shift
    err=$(
        [ "$limit" -gt 0 ] && ulimit -v "$limit"
        timeout -k 2 10 "$@" 2>&1 >/dev/null </dev/null
    )
    rc=$?
}

# refused DESC LIMIT_KB PATTERN CMD...: CMD exits 1 at once with one line naming PATTERN.
refused() {
    local desc=$1 limit=$2 pattern=$3
    shift 3
    run_cmd "$limit" "$@"
    local lines
    lines=$(printf '%s\n' "$err" | grep -c .)
    if [ "$rc" -eq 1 ] && [[ $err == *"$pattern"* ]] && [ "$lines" -eq 1 ]; then
        pass "$desc"
    else
        fail "$desc" "exit $rc (wanted 1; 124 = hung), $lines stderr lines, wanted '$pattern'" \
            "stderr: $(printf '%s' "$err" | head -c 300 | tr '\n' '|')"
    fi
}

# ---- family 1: inputs that are not regular files -------------------------------------------
F="is a FIFO, not a regular file"
refused "train: a FIFO as DATA (.csv) is refused, not waited on" 0 "fifo.csv: $F" \
    "$HOOD" train fifo.csv -o out.hood --layers 2:softmax
refused "train: a FIFO as DATA (.npz)" 0 "fifo.npz: $F" \
    "$HOOD" train fifo.npz -o out.hood --layers 2:softmax
refused "train: a FIFO as --validation-data" 0 "fifo.csv: $F" \
    "$HOOD" train d.csv -o out.hood --layers 2:softmax --validation-data fifo.csv
refused "train: a FIFO as --init-weights" 0 "fifo.npz: $F" \
    "$HOOD" train d.csv -o out.hood --layers 4:relu,2:softmax --init-weights fifo.npz
refused "train: a FIFO as --resume" 0 "fifo.hood: $F" \
    "$HOOD" train d.csv -o out.hood --resume fifo.hood
refused "evaluate: a FIFO as MODEL" 0 "fifo.hood: $F" "$HOOD" evaluate fifo.hood d.csv
refused "evaluate: a FIFO as DATA" 0 "fifo.csv: $F" "$HOOD" evaluate m.hood fifo.csv
refused "predict: a FIFO as MODEL" 0 "fifo.hood: $F" "$HOOD" predict fifo.hood d.csv
refused "info: a FIFO as MODEL" 0 "fifo.hood: $F" "$HOOD" info fifo.hood
refused "export-weights: a FIFO as MODEL" 0 "fifo.hood: $F" \
    "$HOOD" export-weights fifo.hood -o out.npz
if [ "$have_images" -eq 1 ]; then
    refused "dataset: a FIFO as --labels" 0 "fifo.txt: $F" \
        "$HOOD" dataset imgs -o out.npz --labels fifo.txt
else
    skip "dataset: a FIFO as --labels" "$no_images"
fi
# Under a 1 GiB address-space limit: today's reader grew its line buffer to 2 GB+ on /dev/zero.
# (AddressSanitizer reserves terabytes of shadow memory at start: under it, no limit.)
C="is a character device, not a regular file"
VLIMIT=1048576
ldd "$HOOD" 2>/dev/null | grep -q libasan && VLIMIT=0
refused "train: /dev/zero as DATA (1 GiB address space)" "$VLIMIT" "zero.csv: $C" \
    "$HOOD" train zero.csv -o out.hood --layers 2:softmax
refused "info: /dev/zero as MODEL (1 GiB address space)" "$VLIMIT" "zero.hood: $C" \
    "$HOOD" info zero.hood
refused "evaluate: /dev/zero as MODEL (1 GiB address space)" "$VLIMIT" "zero.hood: $C" \
    "$HOOD" evaluate zero.hood d.csv
refused "train: /dev/urandom as DATA ends at once (1 GiB address space)" "$VLIMIT" \
    "random.csv: $C" "$HOOD" train random.csv -o out.hood --layers 2:softmax
if [ -z "$(ls out.* 2>/dev/null)" ]; then
    pass "no refused input left an output or a temporary"
else
    fail "no refused input left an output or a temporary" "found: $(ls out.* | tr '\n' ' ')"
fi

# ---- family 3: all-or-nothing outputs ------------------------------------------------------
# same_bytes A B: cmp, quietly.
same_bytes() { cmp -s "$1" "$2"; }
# listing DIR: the folder's names, one line.
listing() { ls -A "$1" | tr '\n' ' '; }

# stdout on /dev/full: the command fails (exit 1) and the old output is byte-identical.
mkdir full && cp m.hood full/model.hood && cp m.hood full/keep.hood
run_cmd 0 sh -c "exec \"$HOOD\" train d.csv -o full/model.hood --layers 3:relu,2:softmax \
    --epochs 3 --seed 9 --evaluate d.csv >/dev/full"
if [ "$rc" -eq 1 ] && same_bytes full/model.hood full/keep.hood &&
    [ "$(listing full)" = "keep.hood model.hood " ]; then
    pass "train >/dev/full: exit 1, the old model byte-identical, nothing else written"
else
    fail "train >/dev/full: exit 1, the old model byte-identical, nothing else written" \
        "exit $rc; folder: $(listing full); $(same_bytes full/model.hood full/keep.hood ||
            echo 'the model was replaced')"
fi
if [ "$have_images" -eq 1 ]; then
    mkdir dsfull
    "$HOOD" dataset imgs -o dsfull/o.npz --image-size 8x8 >/dev/null 2>&1
    cp dsfull/o.npz dsfull/keep.npz
    run_cmd 0 sh -c "exec \"$HOOD\" dataset imgs -o dsfull/o.npz --image-size 4x4 >/dev/full"
    if [ "$rc" -eq 1 ] && same_bytes dsfull/o.npz dsfull/keep.npz &&
        [ "$(listing dsfull)" = "keep.npz o.npz " ]; then
        pass "dataset >/dev/full: exit 1, the old .npz byte-identical, nothing else written"
    else
        fail "dataset >/dev/full: exit 1, the old .npz byte-identical, nothing else written" \
            "exit $rc; folder: $(listing dsfull)"
    fi
else
    skip "dataset >/dev/full" "$no_images"
fi

# A full disk: a small tmpfs with room for the new model's bytes but not one page more. The
# old model is an empty file (it frees nothing when replaced), and stdout is a file on the
# same disk: the command must fail with the model untouched, whichever write hits the wall.
if [ "$(id -u)" -ne 0 ]; then
    skip "train on a full disk" "mounting a tmpfs needs root"
else
    MNT=$T/disk
    mkdir "$MNT"
    if ! mount -t tmpfs -o size=1m tmpfs "$MNT" 2>"$T/mount.err"; then
        skip "train on a full disk" "mount -t tmpfs failed: $(head -c 200 "$T/mount.err")"
        MNT=
    else
        # --verbose 0: the only stdout is --evaluate's line, printed after training.
        big=(d.csv --layers 400:relu,2:softmax --epochs 2 --seed 3 --verbose 0 --evaluate d.csv)
        "$HOOD" train "${big[@]}" -o big.hood >/dev/null 2>&1
        pages=$((($(stat -c %s big.hood) + 4095) / 4096))
        : >"$MNT/model.hood"
        : >"$MNT/log"
        head -c $((1024 * 1024 - (pages + 8) * 4096)) /dev/zero >"$MNT/filler" 2>/dev/null
        while [ "$(stat -f -c %a "$MNT")" -gt "$pages" ]; do
            head -c 4096 /dev/zero >>"$MNT/filler" 2>/dev/null || break
        done
        free=$(stat -f -c %a "$MNT")
        run_cmd 0 sh -c "exec \"$HOOD\" train ${big[*]} -o \"$MNT/model.hood\" >\"$MNT/log\""
        left=$(ls -A "$MNT" | tr '\n' ' ')
        if [ "$rc" -eq 1 ] && [ ! -s "$MNT/model.hood" ] && [ "$left" = "filler log model.hood " ]
        then
            pass "train on a full disk ($free free pages, the model needs $pages): exit 1, the old model untouched, no temporary"
        else
            fail "train on a full disk: exit 1, the old model untouched, no temporary" \
                "exit $rc ($free free pages, the model needs $pages); model.hood has" \
                "$(stat -c %s "$MNT/model.hood") bytes; folder: $left"
        fi
        umount "$MNT" && MNT=
    fi
fi

# SIGKILL while the model is being written: the old file stays, no temporary is left. The
# run is killed the moment it holds a temporary of the folder open (/proc/PID/fd).
holds_temp() {
    compgen -G "$2/*.tmp*" >/dev/null && return 0
    ls -l "/proc/$1/fd" 2>/dev/null | grep -q -F "$2/#"
}
"$PY" -c '
import random
r = random.Random(5)
with open("wide.csv", "w") as f:
    for i in range(8):
        f.write(",".join("%.3f" % r.random() for _ in range(400)) + ",%d\n" % (i % 2))
' 2>/dev/null || awk 'BEGIN { srand(5); for (i = 0; i < 8; i++) { s = ""
    for (j = 0; j < 400; j++) s = s sprintf("%.3f,", rand()); print s (i % 2) } }' >wide.csv
mkdir kill
cp m.hood kill/model.hood
hit=0 tries=0
while [ "$hit" -eq 0 ] && [ "$tries" -lt 5 ]; do
    tries=$((tries + 1))
    "$HOOD" train wide.csv -o "$T/kill/model.hood" --layers 10000:relu,2:softmax --epochs 1 \
        --optimizer adam >/dev/null 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if holds_temp "$pid" "$T/kill"; then
            kill -9 "$pid" && hit=1
            break
        fi
    done
    wait "$pid" 2>/dev/null
    pid=
    same_bytes kill/model.hood m.hood || break
done
if [ "$hit" -eq 1 ] && same_bytes kill/model.hood m.hood && [ "$(listing kill)" = "model.hood " ]
then
    pass "train SIGKILLed mid-write: the old model byte-identical, no temporary left"
elif [ "$hit" -eq 0 ] && same_bytes kill/model.hood m.hood; then
    skip "train SIGKILLed mid-write" "no kill landed inside the write in $tries runs"
else
    fail "train SIGKILLed mid-write: the old model byte-identical, no temporary left" \
        "folder: $(listing kill); $(same_bytes kill/model.hood m.hood || echo 'model changed')"
fi

# SIGKILL `hood dataset --subset both` at several moments of its write (from the moment it holds
# an output temporary of the folder open, after 0 to 400 ms): whatever the moment, the folder
# holds no temporary and each half is either absent or byte-identical to an undisturbed run's.
# The property holds at any kill moment (into an empty folder the unnamed temporaries are linked
# straight to their names), so the case does not count how many kills landed in the write.
if [ "$have_images" -eq 1 ]; then
    mkdir both both/ref
    DS=(--image-size 160x160 --validation-split 0.5 --subset both --seed 1 --quiet)
    run_cmd 0 "$HOOD" dataset imgs -o both/ref/x.csv "${DS[@]}"
    [ "$rc" -eq 0 ] || echo "# the undisturbed run failed: exit $rc: $err"
    bad=
    for delay in 0 0 0.01 0.02 0.05 0.1 0.2 0.4; do
        rm -rf both/k && mkdir both/k
        "$HOOD" dataset imgs -o "$T/both/k/x.csv" "${DS[@]}" >/dev/null 2>&1 &
        pid=$!
        while kill -0 "$pid" 2>/dev/null; do
            if holds_temp "$pid" "$T/both/k"; then
                sleep "$delay"
                kill -9 "$pid" 2>/dev/null
                break
            fi
        done
        wait "$pid" 2>/dev/null
        pid=
        for f in $(ls -A both/k); do
            case $f in
            x.train.csv | x.val.csv) same_bytes "both/k/$f" "both/ref/$f" ||
                bad="$bad [after ${delay}s: $f differs]" ;;
            *) bad="$bad [after ${delay}s: $f left]" ;;
            esac
        done
    done
    if [ "$rc" -eq 0 ] && [ -z "$bad" ]; then
        pass "dataset --subset both SIGKILLed mid-write: no temporary, halves whole or absent"
    else
        fail "dataset --subset both SIGKILLed mid-write: no temporary, halves whole or absent" \
            "$bad"
    fi
else
    skip "dataset --subset both SIGKILLed mid-write" "$no_images"
fi

# The second half cannot be committed (it is immutable: even root cannot replace it, chattr
# +i): exit 1 naming it, the new first half removed again, the old second half untouched.
if [ "$have_images" -eq 1 ] && mkdir imm && echo old >imm/x.val.csv &&
    chattr +i imm/x.val.csv 2>/dev/null; then
    run_cmd 0 "$HOOD" dataset imgs -o imm/x.csv --image-size 4x4 --validation-split 0.5 \
        --subset both --seed 1
    chattr -i imm/x.val.csv
    if [ "$rc" -eq 1 ] && [[ $err == *"imm/x.val.csv: cannot write"*"nothing written"* ]] &&
        [ "$(listing imm)" = "x.val.csv " ] && [ "$(cat imm/x.val.csv)" = old ]; then
        pass "dataset --subset both, second half not replaceable: exit 1, nothing written"
    else
        fail "dataset --subset both, second half not replaceable: exit 1, nothing written" \
            "exit $rc: $err" "folder: $(listing imm)"
    fi
else
    [ -f imm/x.val.csv ] && chattr -i imm/x.val.csv 2>/dev/null
    skip "dataset --subset both, second half not replaceable" \
        "needs images and chattr +i (root on ext4/xfs/btrfs)"
fi

# A legal 250-byte name (NAME_MAX is 255): the temporary's name must not pass NAME_MAX.
long=$(printf 'n%.0s' $(seq 1 245))
mkdir long
run_cmd 0 "$HOOD" train d.csv -o "long/$long.hood" --layers 2:softmax --epochs 1
run_cmd 0 "$HOOD" train d.csv -o "long/$long.hood" --layers 2:softmax --epochs 2
if [ "$rc" -eq 0 ] && "$HOOD" info "long/$long.hood" >/dev/null 2>&1 &&
    [ "$(ls -A long | wc -l)" -eq 1 ]; then
    pass "train -o a 250-byte name: written, then replaced"
else
    fail "train -o a 250-byte name: written, then replaced" "exit $rc: $err"
fi
if [ "$have_images" -eq 1 ]; then
    run_cmd 0 "$HOOD" dataset imgs -o "long/$long.npz" --image-size 4x4
    if [ "$rc" -eq 0 ] && [ -s "long/$long.npz" ]; then
        pass "dataset -o a 250-byte name"
    else
        fail "dataset -o a 250-byte name" "exit $rc: $err"
    fi
    short=$(printf 's%.0s' $(seq 1 240))
    run_cmd 0 "$HOOD" dataset imgs -o "long/$short.npz" --image-size 4x4 \
        --validation-split 0.5 --subset both --seed 1
    if [ "$rc" -eq 0 ] && [ -s "long/$short.train.npz" ] && [ -s "long/$short.val.npz" ] &&
        [ "$(ls -A long | wc -l)" -eq 4 ]; then
        pass "dataset --subset both, halves with 250-byte names"
    else
        fail "dataset --subset both, halves with 250-byte names" "exit $rc: $err" \
            "folder: $(listing long | head -c 300)"
    fi
else
    skip "dataset -o a 250-byte name" "$no_images"
    skip "dataset --subset both, halves with 250-byte names" "$no_images"
fi

# Two outputs (or an output and a data input) naming one file: exit 2, both named, untouched.
# same_path DESC PATTERN FILE CMD...: exit 2, stderr names PATTERN, FILE byte-identical.
same_path() {
    local desc=$1 pattern=$2 file=$3
    shift 3
    cp "$file" "$T/before"
    run_cmd 0 "$@"
    if [ "$rc" -eq 2 ] && [[ $err == *"$pattern"* ]] && same_bytes "$file" "$T/before"; then
        pass "$desc"
    else
        fail "$desc" "exit $rc (wanted 2), wanted '$pattern'; stderr: $(printf '%s' "$err" |
            head -c 300 | tr '\n' '|')" "$(same_bytes "$file" "$T/before" || echo "$file changed")"
    fi
}
cp m.hood same.hood
same_path "train -o X --history X: a usage error naming both" "-o and --history" same.hood \
    "$HOOD" train d.csv -o same.hood --history same.hood --layers 2:softmax --epochs 1
same_path "train -o X --checkpoint ./X (one file, two spellings): a usage error" \
    "-o and --checkpoint" same.hood \
    "$HOOD" train d.csv -o same.hood --checkpoint ./same.hood --layers 2:softmax --epochs 1
same_path "train -o DATA: the data is not replaced by a model" "would replace the input DATA" \
    d.csv "$HOOD" train d.csv -o d.csv --layers 2:softmax --epochs 1
ln -s same.hood link.hood
same_path "train --history through a symlink to -o's file: a usage error" \
    "-o and --history" same.hood \
    "$HOOD" train d.csv -o same.hood --history link.hood --layers 2:softmax --epochs 1
cp m.hood model.npz
same_path "export-weights MODEL -o MODEL: a usage error" "would replace the input MODEL" \
    model.npz "$HOOD" export-weights model.npz -o model.npz

# ---- family 6: integer labels for a categorical_crossentropy model ------------------------
run_cmd 0 "$HOOD" train d.csv -o cce.hood --layers 3:softmax --loss categorical_crossentropy \
    --epochs 2 --validation-data d.csv
if [ "$rc" -eq 0 ]; then
    pass "train: labels 0/1 one-hot to a 3-unit categorical_crossentropy model (+ validation)"
else
    fail "train: labels 0/1 one-hot to a 3-unit categorical_crossentropy model (+ validation)" \
        "exit $rc: $err"
fi
run_cmd 0 "$HOOD" evaluate cce.hood d.csv
if [ "$rc" -eq 0 ]; then
    pass "evaluate: a 3-class categorical_crossentropy model on labels 0/1"
else
    fail "evaluate: a 3-class categorical_crossentropy model on labels 0/1" "exit $rc: $err"
fi
printf '0.1,0.2,4\n' >five.csv
refused "evaluate: label 4 for a 3-unit model still fails, naming both counts" 0 \
    "output has 3 units, labels have 5 classes" "$HOOD" evaluate cce.hood five.csv

echo "1..$n"
