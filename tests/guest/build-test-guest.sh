#!/usr/bin/env bash
# build-test-guest.sh OUTDIR [ARCH]
#
# Builds the tiny Linux guest that vmdesk's tests boot under QEMU, for the
# Debian architecture ARCH: amd64 (the default) or arm64. arm64 needs the
# architecture in dpkg (dpkg --add-architecture arm64; apt-get update, as
# tools/install-deps does): the packages come through multiarch
# `apt-get download`, and nothing of them runs on the host (busybox's applet
# list comes from the host's own busybox-static of the same version).
#
#   OUTDIR/vmlinux     amd64: uncompressed kernel ELF (PVH entry; boot with -kernel)
#   OUTDIR/vmlinuz     amd64: the bzImage it was extracted from (fallback)
#   OUTDIR/Image       arm64: the uncompressed kernel Image (an EFI application
#                      too: its EFI stub boots it from UEFI)
#   OUTDIR/initrd.img  gzip'd newc cpio: Debian's static busybox, the kernel
#                      modules for virtio-net and virtio-blk on PCI + ACPI power button +
#                      evdev + QEMU's USB tablet on xHCI (usb-tablet on
#                      qemu-xhci), and tests/guest/init as /init; arm64 adds the
#                      power key of the virt machine (gpio-keys) and virtio-gpu
#   OUTDIR/guest.env   shell-sourcable: KERNEL=, INITRD=, APPEND=, ...
#   OUTDIR/debs/       the downloaded .debs (downloaded once, then reused)
#
# Everything comes from Debian's archive through `apt-get download` (no root
# needed): the kernel is the package linux-image-amd64 depends on, busybox is
# busybox-static. The initramfs is made without root.
#
# Cached: when all outputs exist and were built from this script's and the
# init's content (their SHA-256 is recorded in guest.env), nothing is done.
# Set VMDESK_GUEST_FORCE=1 to rebuild anyway (the .debs in OUTDIR/debs are
# still reused; delete them to fetch new ones).
#
# Needs: apt-get, apt-cache, dpkg-deb, cpio, gzip, grep (with -P), xz (or
# whichever decompressor the kernel image uses), flock (optional).

set -euo pipefail

prog=$(basename "$0")
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ] || [ -z "$1" ]; then
    echo "usage: $prog OUTDIR [amd64|arm64]" >&2
    exit 2
fi
ARCH=${2:-amd64}
HOST_ARCH=$(dpkg --print-architecture)

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
INIT_SRC="$SCRIPT_DIR/init"
[ -f "$INIT_SRC" ] || die "missing $INIT_SRC"

mkdir -p "$1"
# The real folder: guest.env names it, and must stay right when a symlink
# that led here goes away.
OUT=$(cd "$1" && pwd -P)
DEBS="$OUT/debs"

# Per architecture: the serial console, the kernel's outputs, the QEMU
# line guest.env shows, and the drivers (below).
case "$ARCH" in
    amd64)
        SERIAL=ttyS0
        OUTPUTS=(vmlinux vmlinuz initrd.img guest.env)
        BOOT_HINT="qemu-system-x86_64 -machine q35 -accel tcg"
        ;;
    arm64)
        SERIAL=ttyAMA0
        OUTPUTS=(Image initrd.img guest.env)
        BOOT_HINT="qemu-system-aarch64 -machine virt -cpu max -accel tcg"
        ;;
    *) die "unknown architecture $ARCH (amd64 or arm64)" ;;
esac
# Kernel command line the guest is meant to be booted with.
APPEND_DEFAULT="console=$SERIAL quiet"

# Drivers the guest needs: MODULE:CONFIG_SYMBOL. Each is included (with its
# dependencies) only when the kernel config has it =m; =y means built in.
# /init loads them in this order (each after its dependencies). The USB
# tablet ones come first, so that the tablet is enumerated while the rest
# loads; the HID drivers before xhci_pci, so that they bind as soon as the
# tablet shows up. /init reports the tablet's left clicks on ttyS0.
WANTED="usbhid:USB_HID hid_generic:HID_GENERIC xhci_pci:USB_XHCI_PCI"
WANTED="$WANTED virtio_pci:VIRTIO_PCI virtio_net:VIRTIO_NET button:ACPI_BUTTON evdev:INPUT_EVDEV"
# virtio-blk: /init reports (and with vmdesk.disk-mark= writes) the first
# sector of the VM's disk, /dev/vda, for the storage tests.
WANTED="$WANTED virtio_blk:VIRTIO_BLK"
# 9p over virtio: the tests mount the VM's shared folders (vmdesk share).
WANTED="$WANTED 9pnet_virtio:NET_9P_VIRTIO 9p:9P_FS"
# Drivers /init loads only when a PCI device they handle is present. A
# PVH-booted vmlinux gets no VGA text console (no boot screen_info), so tty1
# is only visible on QEMU's standard VGA (-vga std, -device VGA,
# bochs-display) through the bochs DRM driver + fbcon.
WANTED_PCI="bochs:DRM_BOCHS"
# Drivers taken when the kernel has them (others are skipped with a note).
WANTED_OPTIONAL=""
if [ "$ARCH" = arm64 ]; then
    # The virt machine: no ACPI without firmware (its power key is a GPIO
    # key, with UEFI an ACPI button), no standard VGA (virtio-gpu, whose
    # DRM driver gives fbcon on tty1).
    WANTED="usbhid:USB_HID hid_generic:HID_GENERIC xhci_pci:USB_XHCI_PCI"
    WANTED="$WANTED virtio_pci:VIRTIO_PCI virtio_net:VIRTIO_NET evdev:INPUT_EVDEV"
    WANTED="$WANTED virtio_blk:VIRTIO_BLK gpio_keys:KEYBOARD_GPIO virtio_gpu:DRM_VIRTIO_GPU"
    WANTED="$WANTED 9pnet_virtio:NET_9P_VIRTIO 9p:9P_FS"
    WANTED_OPTIONAL="button:ACPI_BUTTON"
    WANTED_PCI=""
fi

# The recipe's content (this script and the init), not timestamps, decides
# whether a build is current: a fresh checkout of unchanged files reuses it.
RECIPE_SHA256=$( (cat "$SELF" "$INIT_SRC"; echo "$ARCH") | sha256sum | cut -d' ' -f1)

up_to_date() {
    local f
    for f in "${OUTPUTS[@]}"; do
        [ -s "$OUT/$f" ] || return 1
    done
    grep -qx "RECIPE_SHA256='$RECIPE_SHA256'" "$OUT/guest.env"
}

if [ "${VMDESK_GUEST_FORCE:-0}" != 1 ] && up_to_date; then
    log "up to date: $OUT"
    exit 0
fi

# Serialise concurrent builders on the same OUTDIR.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.build.lock"
    flock 9
    if [ "${VMDESK_GUEST_FORCE:-0}" != 1 ] && up_to_date; then
        log "up to date (built by a concurrent run): $OUT"
        exit 0
    fi
fi

missing=()
for t in apt-get apt-cache dpkg-deb cpio gzip grep sed od tr find sort; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (apt-get install cpio ...)"

WORK=$(mktemp -d "$OUT/.work.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# --------------------------------------------------------------------------
# .debs
# --------------------------------------------------------------------------

mkdir -p "$DEBS"

# newest_deb GLOB: print the last (version-sorted) existing match, if any.
newest_deb() {
    local f
    # shellcheck disable=SC2012,SC2086 # $1 is a glob; names are plain
    f=$(cd "$DEBS" && ls -1 $1 2>/dev/null | sort -V | tail -n 1) || true
    [ -n "$f" ] && printf '%s\n' "$DEBS/$f"
}

# apt_update: refresh the package lists when we may (root); a fresh
# machine has none, and then apt-cache/apt-get download find nothing.
apt_update() {
    [ "$(id -u)" = 0 ] || return 1
    log "running apt-get update"
    apt-get -q update >&2
}

# download PACKAGE: fetch PACKAGE's .deb into $DEBS, print its path.
download() {
    local pkg=$1 tmp f
    local -a aptopts=(-q)
    # As root, apt wants to drop to _apt, who cannot write here: don't.
    [ "$(id -u)" = 0 ] && aptopts+=(-o APT::Sandbox::User=root)
    tmp=$(mktemp -d "$DEBS/.dl.XXXXXX")
    if ! (cd "$tmp" && apt-get "${aptopts[@]}" download "$pkg" >&2) &&
        ! { apt_update && (cd "$tmp" && apt-get "${aptopts[@]}" download "$pkg" >&2); }; then
        rm -rf "$tmp"
        die "apt-get download $pkg failed (run apt-get update?)"
    fi
    for f in "$tmp"/*.deb; do
        [ -f "$f" ] || die "apt-get download $pkg produced no .deb"
        mv "$f" "$DEBS/"
        printf '%s\n' "$DEBS/${f##*/}"
    done
    rmdir "$tmp"
}

if [ "$ARCH" != "$HOST_ARCH" ] && ! dpkg --print-foreign-architectures | grep -qx "$ARCH"; then
    die "dpkg does not know the architecture $ARCH: dpkg --add-architecture $ARCH && apt-get update (tools/install-deps does)"
fi
KDEB=$(newest_deb "linux-image-[0-9]*-${ARCH}_*_$ARCH.deb") || true
if [ -z "$KDEB" ]; then
    resolve_kernel() {
        apt-cache depends "linux-image-$ARCH:$ARCH" 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9][^ :]*\)\(:[a-z0-9]*\)\{0,1\}$/\1/p' |
            head -n 1
    }
    kpkg=$(resolve_kernel)
    if [ -z "$kpkg" ] && apt_update; then
        kpkg=$(resolve_kernel)
    fi
    [ -n "$kpkg" ] || die "cannot resolve linux-image-$ARCH (apt-cache depends); run apt-get update?"
    log "downloading $kpkg:$ARCH"
    KDEB=$(download "$kpkg:$ARCH")
fi
BBDEB=$(newest_deb "busybox-static_*_$ARCH.deb") || true
if [ -z "$BBDEB" ]; then
    log "downloading busybox-static:$ARCH"
    BBDEB=$(download "busybox-static:$ARCH")
fi
# The host's busybox of the same version lists the applets (the guest's
# may not run here).
HOST_BBDEB=$BBDEB
if [ "$ARCH" != "$HOST_ARCH" ]; then
    HOST_BBDEB=$(newest_deb "busybox-static_*_$HOST_ARCH.deb") || true
    if [ -z "$HOST_BBDEB" ]; then
        log "downloading busybox-static:$HOST_ARCH (for its applet list)"
        HOST_BBDEB=$(download "busybox-static:$HOST_ARCH")
    fi
fi
log "kernel:  ${KDEB##*/}"
log "busybox: ${BBDEB##*/}"

# --------------------------------------------------------------------------
# Kernel
# --------------------------------------------------------------------------

log "unpacking kernel package"
dpkg-deb -x "$KDEB" "$WORK/kernel"
KVER=$(find "$WORK/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | head -n 1)
[ -n "$KVER" ] || die "no lib/modules/<version> in ${KDEB##*/}"
BZIMAGE="$WORK/kernel/boot/vmlinuz-$KVER"
KCONFIG="$WORK/kernel/boot/config-$KVER"
MODROOT="$WORK/kernel/lib/modules/$KVER"
[ -f "$BZIMAGE" ] || die "no boot/vmlinuz-$KVER in ${KDEB##*/}"
[ -f "$KCONFIG" ] || die "no boot/config-$KVER in ${KDEB##*/}"

kconfig() { sed -n "s/^CONFIG_$1=//p" "$KCONFIG" | head -n 1; }

is_elf() {
    [ -s "$1" ] && [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]
}

# extract_vmlinux BZIMAGE OUT: like the kernel's scripts/extract-vmlinux,
# find each known compression magic in the bzImage and decompress from
# there until the result is an ELF file.
extract_vmlinux() {
    local img=$1 out=$2 magic off
    local -a cmd
    # magic (grep -P, bytes) | tool | decompress command
    local table="
\\x1f\\x8b\\x08|gzip|gzip -dc
\\xfd7zXZ\\x00|xz|xz -dc --single-stream
\\x28\\xb5\\x2f\\xfd|zstd|zstd -dcq
\\x02\\x21\\x4c\\x18|lz4|lz4 -dcq
BZh|bzip2|bzip2 -dcq
\\x5d\\x00\\x00\\x00|xz|xz -dc --format=lzma
\\x89\\x4c\\x5a|lzop|lzop -dcq"
    while IFS='|' read -r magic tool decomp; do
        [ -n "$magic" ] || continue
        command -v "$tool" >/dev/null 2>&1 || continue
        read -ra cmd <<<"$decomp"
        # shellcheck disable=SC2013 # offsets are plain numbers
        for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
            tail -c "+$((off + 1))" "$img" | "${cmd[@]}" >"$out" 2>/dev/null || true
            if is_elf "$out"; then
                log "vmlinux: $tool stream at offset $off of the bzImage"
                return 0
            fi
        done
    done <<<"$table"
    rm -f "$out"
    return 1
}

if [ "$ARCH" = arm64 ]; then
    # Debian's arm64 vmlinuz is a gzip'd Image; the Image itself is what
    # UEFI runs (EFI stub) and what QEMU loads.
    if [ "$(head -c 2 "$BZIMAGE" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; then
        gzip -dc "$BZIMAGE" >"$WORK/Image"
    else
        cp "$BZIMAGE" "$WORK/Image"
    fi
    [ "$(tail -c +57 "$WORK/Image" | head -c 4)" = "$(printf 'ARM\x64')" ] ||
        die "$BZIMAGE is not an arm64 Image"
else
log "extracting vmlinux (kernel compression: $(grep -o '^CONFIG_KERNEL_[A-Z0-9]*=y' "$KCONFIG" | sed 's/CONFIG_KERNEL_//; s/=y//' | tr '\n' ' '))"
extract_vmlinux "$BZIMAGE" "$WORK/vmlinux" ||
    die "could not find a decompressible ELF kernel in $BZIMAGE"
[ "$(kconfig PVH)" = y ] || log "warning: CONFIG_PVH is not set: QEMU cannot boot vmlinux directly, use vmlinuz"
if command -v readelf >/dev/null 2>&1; then
    # XEN_ELFNOTE_PHYS32_ENTRY (type 0x12) is what QEMU's PVH loader looks for.
    readelf -n "$WORK/vmlinux" 2>/dev/null | grep -q -E '^ *Xen[[:space:]].*(\(0x00000012\)|PHYS32)' ||
        log "warning: no PVH entry note found in vmlinux"
fi
cp "$BZIMAGE" "$WORK/vmlinuz"
fi

# --------------------------------------------------------------------------
# Kernel modules
# --------------------------------------------------------------------------

declare -A MODPATH=() BUILTIN=() STATE=()
ORDER=()

modname() { local n=${1##*/}; n=${n%%.ko*}; printf '%s' "${n//-/_}"; }

while IFS= read -r p; do
    MODPATH[$(modname "$p")]=$p
done < <(cd "$MODROOT" && find kernel -type f \( -name '*.ko' -o -name '*.ko.*' \))
if [ -f "$MODROOT/modules.builtin" ]; then
    while IFS= read -r p; do
        [ -n "$p" ] && BUILTIN[$(modname "$p")]=1
    done <"$MODROOT/modules.builtin"
fi

mkdir -p "$WORK/mods"

# unpack_module NAME SRC: write $WORK/mods/NAME.ko, plain ELF (busybox insmod
# does not decompress).
unpack_module() {
    local name=$1 src=$2 dst="$WORK/mods/$1.ko"
    case "$src" in
        *.ko) cp "$src" "$dst" ;;
        *.ko.xz) xz -dc "$src" >"$dst" ;;
        *.ko.zst) zstd -dcq "$src" >"$dst" ;;
        *.ko.gz) gzip -dc "$src" >"$dst" ;;
        *) die "unknown module compression: $src" ;;
    esac
    is_elf "$dst" || die "$src did not unpack to an ELF module"
}

# Dependencies come from each module's .modinfo "depends=" entry, which is
# what depmod writes into modules.dep (the .deb ships no modules.dep: depmod
# runs in its postinst).
module_depends() {
    tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n 1
}

# visit NAME: depth-first, appends NAME after its dependencies to ORDER.
visit() {
    local name=$1 dep deps
    local -a list
    case "${STATE[$name]:-}" in
        done) return 0 ;;
        active) die "module dependency cycle at $name" ;;
    esac
    STATE[$name]='active'
    if [ -n "${BUILTIN[$name]:-}" ]; then
        log "module $name is built in"
        STATE[$name]='done'
        return 0
    fi
    [ -n "${MODPATH[$name]:-}" ] || die "module $name not found in ${KDEB##*/}"
    unpack_module "$name" "$MODROOT/${MODPATH[$name]}"
    deps=$(module_depends "$WORK/mods/$name.ko")
    IFS=, read -ra list <<<"$deps"
    for dep in "${list[@]}"; do
        [ -n "$dep" ] && visit "${dep//-/_}"
    done
    STATE[$name]='done'
    ORDER+=("$name")
}

# want MODULE:SYMBOL required|optional
want() {
    local name=${1%%:*} sym=${1#*:}
    case "$(kconfig "$sym")" in
        y) log "CONFIG_$sym=y: $name is built in" ;;
        m) visit "$name" ;;
        *) [ "$2" = optional ] || die "CONFIG_$sym is neither =y nor =m in $KVER: the guest cannot have $name"
           log "CONFIG_$sym is not set: no $name in the guest" ;;
    esac
}
for w in $WANTED; do want "$w" required; done
for w in $WANTED_OPTIONAL; do want "$w" optional; done
BASE_ORDER=("${ORDER[@]}")
log "modules (load order): ${BASE_ORDER[*]:-none}"

# PCI-triggered groups: lines "VENDOR:DEVICE mod1 mod2 ..." (lowercase hex,
# modules in load order, minus those already loaded unconditionally). The
# IDs come from the top module's pci: aliases (subsystem IDs ignored).
PCI_LINES=()
ALL_MODULES=("${BASE_ORDER[@]}")
for w in $WANTED_PCI; do
    name=${w%%:*} sym=${w#*:}
    case "$(kconfig "$sym")" in
        y) log "CONFIG_$sym=y: $name is built in"; continue ;;
        m) ;;
        *) log "warning: CONFIG_$sym is not set: no $name in the guest"; continue ;;
    esac
    ORDER=()
    visit "$name"
    [ "${#ORDER[@]}" -gt 0 ] || continue
    ALL_MODULES+=("${ORDER[@]}")
    ids=$(tr '\0' '\n' <"$WORK/mods/$name.ko" |
        sed -n 's/^alias=pci:v0000\([0-9A-F]\{4\}\)d0000\([0-9A-F]\{4\}\)sv.*/\1:\2/p' |
        tr 'A-F' 'a-f' | sort -u)
    [ -n "$ids" ] || die "module $name has no pci: alias"
    for id in $ids; do
        PCI_LINES+=("$id ${ORDER[*]}")
    done
    log "modules loaded when PCI ${ids//$'\n'/,} is present: ${ORDER[*]}"
done

# --------------------------------------------------------------------------
# initramfs
# --------------------------------------------------------------------------

ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,var/log,lib/modules}
chmod 1777 "$ROOT/tmp"
chmod 700 "$ROOT/root"

dpkg-deb -x "$BBDEB" "$WORK/busybox"
BB="$WORK/busybox/bin/busybox"
[ -x "$BB" ] || die "no bin/busybox in ${BBDEB##*/}"
cp "$BB" "$ROOT/bin/busybox"
chmod 755 "$ROOT/bin/busybox"
# Applet symlinks at the paths busybox itself reports: the host's own
# busybox-static of the same version when the guest's cannot run here.
if [ "$HOST_BBDEB" != "$BBDEB" ]; then
    dpkg-deb -x "$HOST_BBDEB" "$WORK/busybox-host"
    BB="$WORK/busybox-host/bin/busybox"
fi
napplets=0
while IFS= read -r a; do
    case "$a" in
        */*) ;;
        *) continue ;; # e.g. "linuxrc": not wanted at /
    esac
    [ -e "$ROOT/$a" ] || [ -L "$ROOT/$a" ] && continue
    mkdir -p "$ROOT/$(dirname "$a")"
    ln -s /bin/busybox "$ROOT/$a"
    napplets=$((napplets + 1))
done < <("$BB" --list-full)
[ "$napplets" -gt 0 ] || die "busybox --list-full listed no applets"
[ -e "$ROOT/bin/sh" ] || ln -s /bin/busybox "$ROOT/bin/sh"

cp "$INIT_SRC" "$ROOT/init"
chmod 755 "$ROOT/init"

for name in "${ALL_MODULES[@]}"; do
    cp "$WORK/mods/$name.ko" "$ROOT/lib/modules/$name.ko"
done
printf '%s\n' "${BASE_ORDER[@]}" >"$ROOT/etc/vmdesk-modules"
printf '%s\n' "${PCI_LINES[@]}" >"$ROOT/etc/vmdesk-modules-pci"
echo "$KVER" >"$ROOT/etc/vmdesk-kernel-version"
echo "$SERIAL" >"$ROOT/etc/vmdesk-serial"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"

# newc_entry NAME MODE RDEVMAJOR RDEVMINOR INO: one newc header + name, for
# entries cpio cannot copy from a directory made without root (device nodes).
newc_entry() {
    local name=$1 mode=$2 maj=$3 min=$4 ino=$5
    local namesize=$((${#name} + 1)) pad
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$mode" 0 0 1 0 0 0 0 "$maj" "$min" "$namesize" 0
    printf '%s\0' "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    [ "$pad" -eq 0 ] || head -c "$pad" /dev/zero
}

cpio_opts=(-o -H newc -R 0:0 --quiet)
cpio --help 2>/dev/null | grep -q -- --reproducible && cpio_opts+=(--reproducible)
(
    cd "$ROOT"
    find . -mindepth 1 -exec touch -h -d @0 {} +
    find . -mindepth 1 | LC_ALL=C sort | cpio "${cpio_opts[@]}"
    # Second archive in the same stream (the kernel unpacks concatenated
    # archives): /dev/console, so /init starts with stdio on the console.
    newc_entry dev/console $((8#020600)) 5 1 $((0x7fff0001))
    newc_entry TRAILER!!! 0 0 0 0
) | gzip -9 -n >"$WORK/initrd.img"

# --------------------------------------------------------------------------
# Install outputs (guest.env last: its presence marks a complete build)
# --------------------------------------------------------------------------

shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

rm -f "$OUT/guest.env"
for f in "${OUTPUTS[@]}"; do
    [ "$f" = guest.env ] || mv -f "$WORK/$f" "$OUT/$f"
done
{
    echo "# Generated by tests/guest/build-test-guest.sh; source it."
    echo "# Boot: $BOOT_HINT -kernel \"\$KERNEL\" -initrd \"\$INITRD\" -append \"\$APPEND\""
    echo "#       -netdev user,id=n0,hostfwd=tcp:127.0.0.1:PORT-:\$GUEST_PORT -device virtio-net-pci,netdev=n0"
    echo "# Add vmdesk.acpi=ignore to APPEND to make the guest ignore the ACPI power button."
    echo "# tty1 shows on QEMU's std VGA (bochs DRM) with either kernel; on other display"
    echo "# devices only KERNEL_BZIMAGE (VGA text console) shows it."
    if [ "$ARCH" = arm64 ]; then
        echo "KERNEL=$(shq "$OUT/Image")"
    else
        echo "KERNEL=$(shq "$OUT/vmlinux")"
        echo "KERNEL_BZIMAGE=$(shq "$OUT/vmlinuz")"
    fi
    echo "ARCH=$(shq "$ARCH")"
    echo "INITRD=$(shq "$OUT/initrd.img")"
    echo "APPEND=$(shq "$APPEND_DEFAULT")"
    echo "KERNEL_VERSION=$(shq "$KVER")"
    echo "GUEST_PORT=3389"
    echo "GUEST_BANNER='VMDESK-TEST-GUEST ready'"
    echo "GUEST_READY_LINE='VMDESK-GUEST-READY'"
    echo "# On $SERIAL, before the READY line when a QEMU USB Tablet is attached:"
    echo "# VMDESK-POINTER-READY, then per left-button press of the tablet:"
    echo "# VMDESK-POINTER <abs x> <abs y> (the tablet's 0..32767 coordinates)."
    echo "GUEST_POINTER_READY_LINE='VMDESK-POINTER-READY'"
    echo "GUEST_POINTER_PREFIX='VMDESK-POINTER '"
    echo "GUEST_MODULES=$(shq "${ALL_MODULES[*]:-}")"
    echo "RECIPE_SHA256='$RECIPE_SHA256'"
} >"$WORK/guest.env"
mv -f "$WORK/guest.env" "$OUT/guest.env"

sizes=
for f in "${OUTPUTS[@]}"; do
    sizes="$sizes $f $(stat -c %s "$OUT/$f") B"
done
log "built $OUT ($ARCH):$sizes"
