#!/usr/bin/env bash
# build-demo-guest.sh OUTDIR
#
# Builds the "demo guest": a small Debian 12 (bookworm) system with an RDP
# server (xrdp + xorgxrdp) and a light desktop (IceWM with a taskbar, xterm),
# for vmdesk to boot with direct kernel boot and show over RDP:
#
#   OUTDIR/disk.qcow2   the root file system (ext4, whole disk, no partition
#                       table: root=/dev/vda), compressed qcow2
#   OUTDIR/vmlinuz      the guest's kernel (linux-image-amd64)
#   OUTDIR/initrd.img   its initramfs (initramfs-tools; forces virtio_pci,
#                       virtio_blk and ext4 in)
#   OUTDIR/password     the password of the user "demo", random per build
#                       (mode 0600, never printed)
#   OUTDIR/guest.env    shell-sourcable: KERNEL=, INITRD=, DISK=, APPEND=,
#                       USER=, PASSWORD_FILE=, ...
#   OUTDIR/debs/        the downloaded .debs (reused by the next build)
#
# Boot it with vmdesk:
#   . OUTDIR/guest.env   # (in a subshell: it sets USER)
#   vmdesk create demo --kernel "$KERNEL" --initrd "$INITRD" --append "$APPEND" \
#       --import-disk "$DISK" --memory 1G --cpus 2
#   vmdesk start demo; vmdesk show demo   # the RDP port
# and log in over RDP as demo with the password in OUTDIR/password.
#
# The system comes from `mmdebstrap --variant=minbase` with the host's apt
# mirror (from /etc/apt/sources.list and /etc/apt/sources.list.d/; set
# VMDESK_DEBIAN_MIRROR=URL to choose another), is configured by hooks
# (hostname vmdesk-demo, DHCP with systemd-networkd, a getty on ttyS0, xrdp
# on port 3389 with TLS, qemu-guest-agent, no waiting for the network, no apt
# timers), and becomes an ext4 image through `mke2fs -d`, without loop
# devices or mounts, then a qcow2 through qemu-img.
#
# Runs as root: mmdebstrap's root mode keeps the guest's numeric file owners
# in the tree, and mke2fs -d copies them. The outputs are given to the owner
# of OUTDIR (or to $SUDO_UID under sudo), so create OUTDIR as the user who
# runs vmdesk. Takes about 2-3 minutes and ~2 GiB of space in OUTDIR.
#
# Cached: when all outputs exist and were built by this script's content
# (its SHA-256 is recorded in guest.env), nothing is
# done. Set VMDESK_GUEST_FORCE=1 to rebuild anyway (with a new password; the
# .debs in OUTDIR/debs are still reused). Concurrent runs on one OUTDIR are
# serialised with flock; the build happens in OUTDIR/.work.* and the outputs
# are moved in at the end, guest.env last, so an interrupted build never
# leaves outputs that look complete.
#
# Needs: mmdebstrap, mke2fs and dumpe2fs (e2fsprogs >= 1.43 for -d),
# qemu-img (qemu-utils), flock and unshare (util-linux), coreutils, awk.

set -euo pipefail

prog=$(basename "$0")
log() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $prog OUTDIR" >&2
    exit 2
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"

mkdir -p "$1" || die "cannot create $1"
# The real folder: guest.env names it, and must stay right when a symlink
# that led here goes away.
OUT=$(cd "$1" && pwd -P)
DEBS="$OUT/debs"

SUITE=bookworm
HOSTNAME_GUEST=vmdesk-demo
GUEST_USER=demo
# Kernel command line: the whole disk is the root file system. The last
# console= is /dev/console (systemd's messages, the serial getty).
APPEND_DEFAULT="root=/dev/vda rw console=tty0 console=ttyS0 quiet"
# Free space left in the file system, on top of what the system uses.
FREE_MIB=600

PACKAGES=(
    linux-image-amd64 initramfs-tools systemd-sysv udev dbus
    iproute2 procps less qemu-guest-agent ssl-cert
    xrdp xorgxrdp xauth icewm xterm fonts-dejavu-core xfonts-base
    xclip x11-utils fuse3
)
# fuse3: xrdp's chansrv mounts the client's redirected drives with FUSE
# (~/thinclient_drives), and xrdp only recommends it.

OUTPUTS=(disk.qcow2 vmlinuz initrd.img password guest.env)

# The recipe's content, not its timestamp, decides whether a build is
# current: a fresh checkout (a git worktree, a CI clone) of an unchanged
# script must reuse the guest it built.
RECIPE_SHA256=$(sha256sum "$SELF" | cut -d' ' -f1)

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

[ "$(id -u)" = 0 ] ||
    die "must run as root (mmdebstrap's root mode and mke2fs -d keep the guest's file owners only as root); try: sudo $0 $1"

missing=()
for t in mmdebstrap mke2fs dumpe2fs qemu-img flock chroot unshare truncate awk base64 du; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ ${#missing[@]} -eq 0 ] ||
    die "missing tools: ${missing[*]} (tools/install-deps installs them: mmdebstrap e2fsprogs qemu-utils)"

# Serialise concurrent builders on the same OUTDIR.
exec 9>"$OUT/.build.lock"
flock 9
if [ "${VMDESK_GUEST_FORCE:-0}" != 1 ] && up_to_date; then
    log "up to date (built by a concurrent run): $OUT"
    exit 0
fi

# A build killed with SIGKILL leaves mmdebstrap's /proc, /sys and /dev mounts
# in its chroot; rm --one-file-system stays out of them, and this takes them
# away (deepest first; lazily, as something may still hold them).
unmount_below() {
    local dir m
    dir=$(realpath -e "$1") || return 0
    awk -v p="$dir/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do
            umount -l "$m" || log "warning: cannot unmount $m"
        done
}

# Leftovers of builds that were killed (we hold the lock: none is running).
for d in "$OUT"/.work.*; do
    [ -d "$d" ] || continue
    log "removing the leftovers of an interrupted build: $d"
    unmount_below "$d"
    rm -rf --one-file-system "$d"
done

START=$SECONDS
WORK=$(mktemp -d "$OUT/.work.XXXXXX")
# (apt's _apt user reads the chroot inside; the password file is 0600)
chmod 755 "$WORK"
cleanup() {
    unmount_below "$WORK"
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --------------------------------------------------------------------------
# The host's Debian mirror
# --------------------------------------------------------------------------

# apt_sources: print "URI SUITE" for every enabled deb source of the host,
# one-line format (*.list) and deb822 (*.sources) alike.
apt_sources() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            function flush(  n, m, i, j, U, S) {
                if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
                    n = split(uris, U, /[ \t]+/)
                    m = split(suites, S, /[ \t]+/)
                    for (i = 1; i <= n; i++)
                        for (j = 1; j <= m; j++)
                            if (U[i] != "" && S[j] != "") print U[i], S[j]
                }
                types = uris = suites = enabled = key = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ {
                if (key == "uris") uris = uris " " $0
                else if (key == "suites") suites = suites " " $0
                next
            }
            /^[A-Za-z0-9-]+:/ {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { flush() }' "$f"
    done
}

SOURCES=$(apt_sources)
mirror_for() { awk -v s="$1" '$2 == s { print $1; exit }' <<<"$SOURCES"; }
MIRROR=${VMDESK_DEBIAN_MIRROR:-$(mirror_for "$SUITE")}
[ -n "$MIRROR" ] ||
    die "no '$SUITE' source in /etc/apt/sources.list or /etc/apt/sources.list.d/; set VMDESK_DEBIAN_MIRROR=URL (e.g. http://deb.debian.org/debian)"
MIRRORS=("deb $MIRROR $SUITE main")
if [ -n "$(mirror_for "$SUITE-updates")" ]; then
    MIRRORS+=("deb $MIRROR $SUITE-updates main")
fi
SECURITY=$(mirror_for "$SUITE-security")
if [ -n "$SECURITY" ]; then
    MIRRORS+=("deb $SECURITY $SUITE-security main")
else
    log "warning: the host has no $SUITE-security source; the guest gets none"
fi
log "mirrors: $(printf '%s; ' "${MIRRORS[@]}")"

# --------------------------------------------------------------------------
# Password (random, never printed, never in any argv)
# --------------------------------------------------------------------------

(
    umask 077
    printf '%s\n' "$(head -c 12 /dev/urandom | base64 | tr '+/' '-_')" >"$WORK/password"
)

# --------------------------------------------------------------------------
# Hooks, run by mmdebstrap with the chroot directory as $1
# --------------------------------------------------------------------------

# Before the kernel is installed: an initramfs-tools hook, so that the one
# initramfs built when the kernel is installed loads what finds the root
# disk (QEMU's virtio-blk on PCI) and mounts it.
cat >"$WORK/essential.sh" <<'EOF'
#!/bin/bash
set -euo pipefail
root=$1
mkdir -p "$root/etc/initramfs-tools/hooks"
cat >"$root/etc/initramfs-tools/hooks/vmdesk-demo" <<'HOOK'
#!/bin/sh
# vmdesk demo guest: the root disk is virtio-blk on PCI, ext4.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
for m in virtio_pci virtio_blk ext4; do
    force_load "$m"
done
HOOK
chmod 755 "$root/etc/initramfs-tools/hooks/vmdesk-demo"
EOF

cat >"$WORK/customize.sh" <<'EOF'
#!/bin/bash
# Configures the guest. $1: the chroot; the environment: VMDESK_DEMO_*.
set -euo pipefail
root=$1
say() { printf '%s: customize: %s\n' "$VMDESK_DEMO_PROG" "$*" >&2; }
in_root() { chroot "$root" "$@"; }
put() { # put PATH MODE < content
    mkdir -p "$(dirname "$root$1")"
    cat >"$root$1"
    chmod "$2" "$root$1"
}
host=$VMDESK_DEMO_HOSTNAME
user=$VMDESK_DEMO_USER

say "hostname, fstab, network"
echo "$host" | put /etc/hostname 644
put /etc/hosts 644 <<HOSTS
127.0.0.1	localhost
127.0.1.1	$host
::1		localhost ip6-localhost ip6-loopback
HOSTS
put /etc/fstab 644 <<'FSTAB'
# The whole virtio disk is the root file system (kernel: root=/dev/vda rw).
/dev/vda	/	ext4	defaults,noatime	0	1
FSTAB
put /etc/systemd/network/20-wired.network 644 <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
NET
# No systemd-resolved: QEMU user networking's DNS server.
rm -f "$root/etc/resolv.conf"
echo "nameserver 10.0.2.3" | put /etc/resolv.conf 644
in_root systemctl enable systemd-networkd.service
in_root systemctl enable serial-getty@ttyS0.service
# Fast boot: nothing waits for the network; no periodic jobs.
in_root systemctl mask systemd-networkd-wait-online.service \
    apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service \
    dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    systemd-timesyncd.service
in_root systemctl set-default multi-user.target

echo "LANG=C.UTF-8" | put /etc/default/locale 644

say "user $user"
in_root useradd --create-home --shell /bin/bash --comment "vmdesk demo" "$user"
# chpasswd reads "user:password" on stdin: the password is in no argv.
printf '%s:%s\n' "$user" "$(cat "$VMDESK_DEMO_PASSWORD_FILE")" | in_root chpasswd

say "TLS certificate, xrdp"
# A snakeoil certificate for this guest's name (ssl-cert made one for the
# build host's), readable by xrdp through the group ssl-cert: without it
# xrdp cannot load its key and FreeRDP 2.11 fails with "MAC checksum error".
# make-ssl-cert takes the name from `hostname -f`: the kernel's host name,
# so set the guest's in a UTS namespace of its own.
unshare --uts chroot "$root" /bin/sh -c \
    'hostname "$1" && make-ssl-cert generate-default-snakeoil --force-overwrite' sh "$host"
in_root adduser --quiet xrdp ssl-cert
ini=$root/etc/xrdp/xrdp.ini
set_ini() { # set_ini FILE KEY VALUE: in the [Globals] part (first section)
    if grep -q "^$2=" "$1"; then
        sed -i "0,/^$2=.*/s||$2=$3|" "$1"
    else
        sed -i "0,/^\[Globals\]/s||[Globals]\n$2=$3|" "$1"
    fi
}
set_ini "$ini" port 3389
set_ini "$ini" security_layer negotiate
set_ini "$ini" crypt_level high
set_ini "$ini" certificate ""
set_ini "$ini" key_file ""
set_ini "$ini" ssl_protocols "TLSv1.2, TLSv1.3"
set_ini "$ini" max_bpp 32
# Only the Xorg (xorgxrdp) session: no Xvnc or VNC choices on the login
# screen; with the client's credentials xrdp logs in to it directly.
awk '
    BEGIN { keep = 1 }
    /^\[/ { keep = ($0 !~ /^\[(Xvnc|vnc-any|neutrinordp-any|Xvnc-.*|vnc.*|neutrinordp.*)\]/) }
    keep { print }' "$ini" >"$ini.new"
mv "$ini.new" "$ini"
chmod 644 "$ini"
grep -q '^\[Xorg\]' "$ini" || { say "no [Xorg] section in xrdp.ini"; exit 1; }
# One session per connection, ended when its connection ends: `vmdesk app`
# connects with the program as the session's shell (xrdp has no working
# RemoteApp), which xrdp ignores when it reattaches an existing session;
# sessions that can never be reattached must not pile up.
sed -i -e 's/^AllowRootLogin=.*/AllowRootLogin=false/' -e 's/^Policy=.*/Policy=UBC/' \
    -e 's/^KillDisconnected=.*/KillDisconnected=true/' \
    -e 's/^DisconnectedTimeLimit=.*/DisconnectedTimeLimit=0/' "$root/etc/xrdp/sesman.ini"
grep -q '^Policy=UBC' "$root/etc/xrdp/sesman.ini" || { say "no Policy in sesman.ini"; exit 1; }
put /etc/xrdp/startwm.sh 755 <<'STARTWM'
#!/bin/sh
# vmdesk demo guest: the desktop of an xrdp session (run by xrdp-sesman as
# the user once Xorg with xorgxrdp is up): ~/.xsession through Xsession,
# else IceWM.
if [ -r /etc/profile ]; then
    . /etc/profile
fi
if [ -r /etc/default/locale ]; then
    . /etc/default/locale
    export LANG LANGUAGE
fi
test -x /etc/X11/Xsession && exec /etc/X11/Xsession
exec icewm-session
STARTWM
for home in /etc/skel "/home/$user"; do
    printf '#!/bin/sh\nexec icewm-session\n' | put "$home/.xsession" 755
done
in_root chown "$user:$user" "/home/$user/.xsession"
in_root systemctl enable xrdp.service xrdp-sesman.service

say "IceWM"
# System-wide IceWM settings (/etc/X11/icewm): the CrystalBlue theme (it
# has no background image: the default theme's image wins over any colour),
# a plain background colour (prefoverride wins over the theme's), an xterm
# button on the taskbar, xterm first in the menu (IceWM adds Programs,
# Windows, Settings and Logout), an xterm open at login.
echo 'Theme="CrystalBlue/default.theme"' | put /etc/X11/icewm/theme 644
put /etc/X11/icewm/prefoverride 644 <<'PREFS'
DesktopBackgroundColor="rgb:2b/4c/6f"
ShowTaskBar=1
TaskBarShowWorkspaces=1
TaskBarShowClock=1
ShowProgramsMenu=1
PREFS
XTERM='xterm -fa "DejaVu Sans Mono" -fs 11 -bg "#fdf6e3" -fg "#073642"'
put /etc/X11/icewm/toolbar 644 <<TOOLBAR
prog "Terminal" xterm $XTERM
TOOLBAR
put /etc/X11/icewm/menu 644 <<MENU
prog "Terminal (xterm)" xterm $XTERM
MENU
put /etc/X11/icewm/startup 755 <<STARTUP
#!/bin/sh
# vmdesk demo guest: one terminal open at login.
$XTERM -geometry 90x26+60+50 &
STARTUP

say "qemu-guest-agent"
# Nothing to enable: the unit has no [Install]; udev starts it when QEMU's
# virtio-serial port org.qemu.guest_agent.0 shows up. Check that rule.
grep -qs 'org.qemu.guest_agent.0' "$root"/lib/udev/rules.d/*qemu-guest-agent*.rules ||
    { say "no udev rule starts qemu-guest-agent"; exit 1; }

say "initramfs check"
initrd=$(ls "$root"/boot/initrd.img-* 2>/dev/null | head -n 1)
[ -n "$initrd" ] || { say "no /boot/initrd.img-* (initramfs-tools did not run?)"; exit 1; }
listing=$(in_root lsinitramfs "/boot/${initrd##*/}")
for m in virtio_pci virtio_blk ext4; do
    grep -q "/$m\.ko" <<<"$listing" || grep -q "$m" "$root/lib/modules/"*/modules.builtin ||
        { say "$m is missing from ${initrd##*/}"; exit 1; }
done

say "apt cache"
in_root apt-get -q autoclean >/dev/null
rm -f "$VMDESK_DEMO_DEBS"/*.deb
find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec mv -t "$VMDESK_DEMO_DEBS" {} +
EOF
chmod 755 "$WORK/essential.sh" "$WORK/customize.sh"

# --------------------------------------------------------------------------
# mmdebstrap
# --------------------------------------------------------------------------

mkdir -p "$DEBS"
export VMDESK_DEMO_PROG=$prog VMDESK_DEMO_HOSTNAME=$HOSTNAME_GUEST VMDESK_DEMO_USER=$GUEST_USER
export VMDESK_DEMO_PASSWORD_FILE="$WORK/password" VMDESK_DEMO_DEBS=$DEBS VMDESK_DEMO_WORK=$WORK

# Documentation and the kernel modules of hardware a QEMU guest never has
# (sound, wireless, media, big GPUs, InfiniBand, ...): ~300 MiB less.
EXCLUDES=(/usr/share/man/ /usr/share/info/ /usr/share/doc/ /usr/share/locale/ /usr/share/lintian/)
for m in sound drivers/media drivers/net/wireless net/wireless net/mac80211 drivers/bluetooth \
    net/bluetooth drivers/infiniband drivers/staging drivers/isdn drivers/iio \
    drivers/gpu/drm/amd drivers/gpu/drm/i915 drivers/gpu/drm/nouveau drivers/gpu/drm/radeon; do
    EXCLUDES+=("/lib/modules/*/kernel/$m/" "/usr/lib/modules/*/kernel/$m/")
done
DPKGOPTS=()
for p in "${EXCLUDES[@]}"; do
    DPKGOPTS+=("--dpkgopt=path-exclude=$p*")
done
DPKGOPTS+=("--dpkgopt=path-include=/usr/share/doc/*/copyright")

TREE="$WORK/tree"
log "mmdebstrap $SUITE (minbase + ${#PACKAGES[@]} packages) into $TREE"
include=$(IFS=,; printf '%s' "${PACKAGES[*]}")
# mmdebstrap reads sources from stdin when it is not a terminal: the mirrors
# are given explicitly and stdin is /dev/null. The hooks are expanded by the
# sh that mmdebstrap runs them with (chroot as $1, our VMDESK_DEMO_* vars).
# shellcheck disable=SC2016
mmdebstrap --mode=root --variant=minbase --format=directory \
    --include="$include" \
    --aptopt='Acquire::Languages "none"' \
    "${DPKGOPTS[@]}" \
    --skip=essential/unlink \
    --setup-hook='mkdir -p "$1/var/cache/apt/archives" && find "$VMDESK_DEMO_DEBS" -maxdepth 1 -name "*.deb" -exec cp -t "$1/var/cache/apt/archives" {} +' \
    --essential-hook='"$VMDESK_DEMO_WORK/essential.sh" "$1"' \
    --customize-hook='"$VMDESK_DEMO_WORK/customize.sh" "$1"' \
    "$SUITE" "$TREE" "${MIRRORS[@]}" </dev/null ||
    die "mmdebstrap failed (exit $?; its messages are above: a download error means the mirror $MIRROR is not reachable)"
log "mmdebstrap done after $((SECONDS - START)) s"

# --------------------------------------------------------------------------
# Kernel, initramfs, disk image
# --------------------------------------------------------------------------

STAGE="$WORK/out"
mkdir -p "$STAGE"
kernels=("$TREE"/boot/vmlinuz-*)
{ [ ${#kernels[@]} -eq 1 ] && [ -f "${kernels[0]}" ]; } || die "expected one /boot/vmlinuz-* in the guest, found: ${kernels[*]}"
KVER=${kernels[0]##*/vmlinuz-}
[ -f "$TREE/boot/initrd.img-$KVER" ] || die "no /boot/initrd.img-$KVER in the guest"
cp "${kernels[0]}" "$STAGE/vmlinuz"
cp "$TREE/boot/initrd.img-$KVER" "$STAGE/initrd.img"
chmod 644 "$STAGE/vmlinuz" "$STAGE/initrd.img"

used_mib=$(du -s -x --block-size=1M "$TREE" | cut -f1)
# ext4's own overhead (inode tables, journal) comes on top of the free space.
size_mib=$((used_mib + used_mib / 10 + FREE_MIB + 64))
log "file system: ${used_mib} MiB used, image ${size_mib} MiB"
truncate -s "${size_mib}M" "$WORK/root.ext4"
mke2fs -q -F -t ext4 -L "$HOSTNAME_GUEST" -m 1 -d "$TREE" "$WORK/root.ext4" ||
    die "mke2fs -d failed"
free_mib=$(dumpe2fs -h "$WORK/root.ext4" 2>/dev/null |
    awk -F: '/^Free blocks/ { f = $2 } /^Block size/ { b = $2 } END { printf "%d", f * b / 1048576 }')
log "ext4: ${free_mib} MiB free"
qemu-img convert -c -O qcow2 "$WORK/root.ext4" "$STAGE/disk.qcow2" || die "qemu-img convert failed"
rm -f "$WORK/root.ext4"
mv "$WORK/password" "$STAGE/password"

# --------------------------------------------------------------------------
# Install outputs (guest.env last: its presence marks a complete build)
# --------------------------------------------------------------------------

shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

{
    echo "# Generated by tools/demo-guest/build-demo-guest.sh; source it (in a subshell:"
    echo "# it sets USER). Boot with vmdesk:"
    echo "#   vmdesk create demo --kernel \"\$KERNEL\" --initrd \"\$INITRD\" --append \"\$APPEND\" \\"
    echo "#       --import-disk \"\$DISK\" --memory 1G --cpus 2"
    echo "# then log in over RDP (guest port \$GUEST_PORT) as \$USER, password in \$PASSWORD_FILE."
    echo "KERNEL=$(shq "$OUT/vmlinuz")"
    echo "INITRD=$(shq "$OUT/initrd.img")"
    echo "DISK=$(shq "$OUT/disk.qcow2")"
    echo "APPEND=$(shq "$APPEND_DEFAULT")"
    echo "USER=$(shq "$GUEST_USER")"
    echo "PASSWORD_FILE=$(shq "$OUT/password")"
    echo "KERNEL_VERSION=$(shq "$KVER")"
    echo "GUEST_PORT=3389"
    echo "GUEST_HOSTNAME=$(shq "$HOSTNAME_GUEST")"
    echo "RECIPE_SHA256='$RECIPE_SHA256'"
} >"$STAGE/guest.env"
chmod 644 "$STAGE/guest.env" "$STAGE/disk.qcow2"
chmod 600 "$STAGE/password"

# The outputs belong to whoever runs vmdesk: the sudo user, else OUTDIR's owner.
owner=${SUDO_UID:+$SUDO_UID:${SUDO_GID:-$SUDO_UID}}
[ -n "$owner" ] || owner=$(stat -c %u:%g "$OUT")
chown "$owner" "$STAGE"/*

rm -f "$OUT/guest.env"
for f in "${OUTPUTS[@]}"; do
    [ "$f" = guest.env ] || mv -f "$STAGE/$f" "$OUT/$f"
done
mv -f "$STAGE/guest.env" "$OUT/guest.env"

mib() { echo "$(($(stat -c %s "$1") / 1048576)) MiB"; }
log "built $OUT in $((SECONDS - START)) s: disk.qcow2 $(mib "$OUT/disk.qcow2") (ext4 ${size_mib} MiB, ${free_mib} MiB free), vmlinuz $(mib "$OUT/vmlinuz"), initrd.img $(mib "$OUT/initrd.img"), kernel $KVER"
