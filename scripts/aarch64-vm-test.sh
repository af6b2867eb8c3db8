#!/bin/sh
# aarch64-vm-test.sh - run the restartable tests on aarch64 for real: in a
# virtual Arm machine (qemu-system-aarch64, 2 CPUs) booting Debian's arm64
# kernel, whose rseq and membarrier run the page sets' sequence of
# src/rseq-aarch64.h with real preemption, migration and fences. QEMU's
# user mode (scripts/cross-test.sh) has no rseq; this is where the
# aarch64 sequence runs.
#
#   scripts/aarch64-vm-test.sh        # what `make test-aarch64-vm` runs
#
# Steps, each safe to repeat:
#  1. installs qemu-system-arm and cpio, the cross compiler and the arm64
#     -dev packages (scripts/arm64-packages.sh), and downloads Debian's arm64 kernel
#     (linux-image-arm64) and busybox-static:arm64 into build-aarch64-vm/;
#  2. builds the tests statically for aarch64 (ZA_DEBUG=1, as the cross
#     build) in build-aarch64-vm/, and from ctest's own list takes every
#     run that wants restartable page sets: the *_rseq runs, pcp_rseq and
#     pcp_rseq_selfreg (with its environment), and the rules_* tests
#     (whose restartable discipline runs there);
#  3. packs them with busybox into an initramfs whose init runs each one
#     and prints a RESULT line, boots it (multi-threaded TCG) and fails
#     unless every run passed. A run that says it is skipped fails too:
#     that kernel has rseq and the fence, so a skip would hide the very
#     thing this run is for.
#
# The guest's memory ordering is the host's (x86 TSO) under TCG, so this
# shows that the sequence, its descriptor, abort stub and signature, the
# stop + fence protocol and the seeds hold on aarch64 with a real kernel -
# not that no weak-ordering race exists. About five minutes on 2 cores.
#
# SPDX-License-Identifier: MIT
set -eu
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${BUILD:-build-aarch64-vm}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
if [ "$(uname -m)" != x86_64 ]; then
	echo "aarch64-vm-test: written for an x86-64 Debian machine, not $(uname -m)" >&2
	exit 1
fi

# 1. Packages and the guest's kernel and shell.
./scripts/arm64-packages.sh qemu-system-arm cpio perl
mkdir -p "$BUILD/debs"
kpkg=$(apt-cache depends linux-image-arm64:arm64 |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-arm64\).*/\1/p' | head -n1)
[ -n "$kpkg" ] || { echo "aarch64-vm-test: no arm64 kernel package found" >&2; exit 1; }
for p in "$kpkg:arm64" busybox-static:arm64; do
	name=${p%%:*}
	ls "$BUILD/debs/${name}_"*.deb >/dev/null 2>&1 ||
		(cd "$BUILD/debs" && apt-get download -q "$p")
done
rm -rf "$BUILD/kernel" "$BUILD/busybox"
dpkg -x "$BUILD/debs/${kpkg}_"*.deb "$BUILD/kernel"
dpkg -x "$BUILD/debs/busybox-static_"*.deb "$BUILD/busybox"
for image in "$BUILD"/kernel/boot/vmlinuz-*; do break; done
[ -f "$image" ] || { echo "aarch64-vm-test: no kernel image in $kpkg" >&2; exit 1; }

# 2. The tests, static (the guest has no C library of its own); libnuma's
# archive, since a static link cannot take its shared object.
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$SRC/cmake/aarch64-linux-gnu.cmake" \
	-DCMAKE_BUILD_TYPE=Release -DZA_DEBUG=1 -DZA_BUILD_BENCH=OFF \
	-DZA_BUILD_TOOLS=OFF -DCMAKE_EXE_LINKER_FLAGS=-static \
	-DNUMA_LIBRARY=/usr/lib/aarch64-linux-gnu/libnuma.a >/dev/null
WANT='_rseq$|^pcp_rseq|^rules_'
# Each run from ctest, one a line: name|program|environment|arguments
# ("|", not a tab: read keeps an empty field between two of them).
ctest --test-dir "$BUILD" --show-only=json-v1 -R "$WANT" >"$BUILD/tests.json"
perl -MJSON::PP -e '
	local $/; my $j = decode_json(<STDIN>);
	for my $t (@{$j->{tests}}) {
		my @env;
		for my $p (@{$t->{properties} || []}) {
			push @env, @{$p->{value}} if $p->{name} eq "ENVIRONMENT";
		}
		my @cmd = @{$t->{command}};
		shift @cmd while @cmd && $cmd[0] !~ m{/tests/};  # the emulator
		my $prog = shift @cmd;
		$prog =~ s{.*/}{};
		print join("|", $t->{name}, $prog, join(" ", @env), join(" ", @cmd)), "\n";
	}' <"$BUILD/tests.json" >"$BUILD/runs.txt"
n=$(wc -l <"$BUILD/runs.txt")
[ "$n" -gt 0 ] || { echo "aarch64-vm-test: no restartable runs in ctest's list" >&2; exit 1; }
targets=$(cut -d'|' -f2 "$BUILD/runs.txt" | sort -u)
# shellcheck disable=SC2086 # one word a target
cmake --build "$BUILD" -j"$JOBS" --target $targets

# 3. The initramfs: busybox, the tests, and an init that runs them.
root=$BUILD/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/tmp" "$root/dev" "$root/tests"
cp "$BUILD/busybox/bin/busybox" "$root/bin/"
for t in $targets; do
	cp "$BUILD/tests/$t" "$root/tests/"
done
{
	cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs tmp /tmp
mount -t devtmpfs dev /dev
echo "GUEST $(uname -m) $(uname -r), $(nproc) CPUs"
cd /tests
run() {
	name=$1
	shift
	start=$(date +%s)
	timeout 900 env "$@" >/tmp/out 2>&1
	rc=$?
	echo "RESULT $name rc=$rc $(($(date +%s) - start)) s"
	if [ $rc -ne 0 ]; then
		tail -n 30 /tmp/out
	else
		grep -iE "restartable|passed" /tmp/out | tail -n 2
	fi
}
EOF
	while IFS='|' read -r name prog env args; do
		echo "run $name $env ./$prog $args"
	done <"$BUILD/runs.txt"
	echo 'echo "GUEST done"'
	echo 'poweroff -f'
} >"$root/init"
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc 2>/dev/null) | gzip -1 >"$BUILD/initrd.gz"

echo "aarch64-vm-test: booting $(basename "$image") with $n runs"
log=$BUILD/guest.log
timeout 2400 qemu-system-aarch64 -M virt -cpu max -smp 2 -m 2048 -nographic \
	-accel tcg,thread=multi -kernel "$image" -initrd "$BUILD/initrd.gz" \
	-append "console=ttyAMA0 rdinit=/init quiet" </dev/null >"$log" 2>&1 || true
sed -n '/^GUEST\|^RESULT/p' "$log"
passed=$(grep -c '^RESULT .* rc=0 ' "$log" || true)
if ! grep -q '^GUEST done' "$log" || [ "$passed" -ne "$n" ]; then
	echo "aarch64-vm-test: $passed of $n restartable runs passed (the guest's log: $log)" >&2
	grep -A30 '^RESULT .* rc=[1-9]' "$log" >&2 || true
	exit 1
fi
echo "aarch64-vm-test: all $n restartable runs passed on aarch64 ($(grep '^GUEST aarch64' "$log" | cut -d' ' -f3-))"
