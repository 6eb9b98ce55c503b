#!/bin/sh
# vmdesk guest tools for Linux guests (Debian, Ubuntu, Fedora): what vmdesk
# needs inside the guest.
#
#   - xrdp with xorgxrdp (the RDP server vmdesk's window switches to); on
#     Debian/Ubuntu the xrdp user joins ssl-cert, else xrdp cannot read its
#     key and FreeRDP fails with "MAC checksum error"; clipboard: xrdp's
#     chansrv does it, nothing more to install;
#   - qemu-guest-agent (vmdesk probe/tools status ask it);
#   - the VM's shared folder: a 9p mount of the tag vmdesk_share on
#     /mnt/vmdesk_share when the VM offers one (an fstab line, nofail);
#     folders shared over RDP (vmdesk share) appear in the session under
#     ~/thinclient_drives (xrdp's FUSE mount; fuse3 is installed for it);
#
# It never downloads anything itself: it installs the packages it finds on
# the tools media (MEDIA/packages/debian/*.deb, MEDIA/packages/fedora/*.rpm)
# with dpkg/apt-get or dnf/rpm, and only when the media carries none for
# this distribution it falls back to the guest's configured package manager
# (and says so). Idempotent: run it again and it changes nothing. Logs every
# change to /var/log/vmdesk-tools.log; writes the marker
# /var/lib/vmdesk-tools/installed that `vmdesk tools NAME status` reads.
#
# Usage (as root): sh install.sh [--media DIR] [--app-sessions] [--undo]
#   --media DIR     the mounted tools media (default: the folder above this script)
#   --app-sessions  one xrdp session per connection, ended with it (sesman.ini
#                   Policy=UBC, KillDisconnected=true): `vmdesk app` then opens
#                   a program alone (xrdp has no working RemoteApp; it runs the
#                   program as a new session's shell, and ignores it when it
#                   reattaches an existing session). A desktop session then ends
#                   when its window closes.
#   --undo          remove the marker, the fstab line and the mount (packages stay)
set -eu

TOOLS_VERSION=1
LOG=/var/log/vmdesk-tools.log
MARKER_DIR=/var/lib/vmdesk-tools
MARKER=$MARKER_DIR/installed
SHARE_TAG=vmdesk_share
SHARE_DIR=/mnt/vmdesk_share
FSTAB_LINE="$SHARE_TAG $SHARE_DIR 9p trans=virtio,version=9p2000.L,nofail,_netdev 0 0"

media=
undo=0
app_sessions=0
while [ $# -gt 0 ]; do
    case $1 in
    --media) media=${2:?--media needs a folder}; shift 2 ;;
    --undo) undo=1; shift ;;
    --app-sessions) app_sessions=1; shift ;;
    -h | --help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [ -z "$media" ]; then
    media=$(cd "$(dirname "$0")/.." && pwd)
fi

log() {
    printf '%s %s\n' "$(date '+%Y-%m-%dT%H:%M:%S')" "$*" >>"$LOG"
    printf 'vmdesk-tools: %s\n' "$*"
}
die() {
    log "error: $*"
    exit 1
}

[ "$(id -u)" = 0 ] || { echo "install.sh: run it as root" >&2; exit 1; }
mkdir -p "$(dirname "$LOG")"

# --- which distribution ---------------------------------------------------
# In a subshell: os-release's VERSION, NAME... must not touch ours.
family=$(
    [ -r /etc/os-release ] || exit 0
    # shellcheck disable=SC1091
    . /etc/os-release
    case " ${ID:-} ${ID_LIKE:-} " in
    *" debian "* | *" ubuntu "*) echo debian ;;
    *" fedora "* | *" rhel "*) echo fedora ;;
    esac
)
[ -n "$family" ] || die "unsupported distribution (see /etc/os-release): Debian, Ubuntu or Fedora only"

if [ "$undo" = 1 ]; then
    if grep -q "^$SHARE_TAG " /etc/fstab 2>/dev/null; then
        sed -i "\\|^$SHARE_TAG |d" /etc/fstab
        log "removed the $SHARE_TAG line from /etc/fstab"
    fi
    if grep -q " $SHARE_DIR " /proc/mounts 2>/dev/null; then
        umount "$SHARE_DIR" && log "unmounted $SHARE_DIR"
    fi
    if [ -e "$MARKER" ]; then
        rm -f "$MARKER"
        log "removed $MARKER (packages stay installed)"
    fi
    exit 0
fi

# --- packages ---------------------------------------------------------------
installed() { # installed PACKAGE
    if [ "$family" = debian ]; then
        dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
    else
        rpm -q "$1" >/dev/null 2>&1
    fi
}

wanted="xrdp xorgxrdp qemu-guest-agent fuse3"
[ "$family" = debian ] && wanted="$wanted ssl-cert"
missing=
for p in $wanted; do
    installed "$p" || missing="$missing $p"
done

# The media's packages for this family: every one whose package is not
# installed yet (the wanted ones and the dependencies the media carries).
media_files() {
    if [ "$family" = debian ]; then
        for f in "$media"/packages/debian/*.deb; do
            [ -f "$f" ] || continue
            n=$(dpkg-deb -f "$f" Package) || continue
            installed "$n" || printf '%s\n' "$f"
        done
    else
        for f in "$media"/packages/fedora/*.rpm; do
            [ -f "$f" ] || continue
            n=$(rpm -qp --qf '%{NAME}' "$f" 2>/dev/null) || continue
            installed "$n" || printf '%s\n' "$f"
        done
    fi
}

if [ -n "$missing" ]; then
    log "missing:$missing"
    files=$(media_files)
    if [ -n "$files" ]; then
        log "installing from the tools media: $(echo "$files" | sed 's|.*/||' | tr '\n' ' ')"
        # $files splits on newlines only, without globbing: one word a path.
        old_ifs=$IFS
        IFS='
'
        set -f
        if [ "$family" = debian ]; then
            # dpkg installs them in one go (the order among them is dpkg's
            # business); dependencies outside the media must be installed.
            # shellcheck disable=SC2086
            DEBIAN_FRONTEND=noninteractive dpkg -i $files >>"$LOG" 2>&1 ||
                die "dpkg -i failed (see $LOG): the media lacks a dependency this guest does not have"
        elif command -v dnf >/dev/null 2>&1; then
            # shellcheck disable=SC2086
            dnf install -y --disablerepo='*' $files >>"$LOG" 2>&1 ||
                die "dnf install from the media failed (see $LOG)"
        else
            # shellcheck disable=SC2086
            rpm -Uvh $files >>"$LOG" 2>&1 || die "rpm -U from the media failed (see $LOG)"
        fi
        IFS=$old_ifs
        set +f
    fi
    still=
    for p in $missing; do
        installed "$p" || still="$still $p"
    done
    if [ -n "$still" ]; then
        if [ -n "$files" ]; then
            log "the media has no package for:$still"
        else
            log "the media carries no packages for $family guests"
        fi
        log "falling back to this guest's configured package manager for:$still"
        if [ "$family" = debian ]; then
            # shellcheck disable=SC2086
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $still \
                >>"$LOG" 2>&1 || die "apt-get install$still failed (see $LOG)"
        else
            # shellcheck disable=SC2086
            dnf install -y $still >>"$LOG" 2>&1 || die "dnf install$still failed (see $LOG)"
        fi
        log "installed with the package manager:$still"
    fi
else
    log "packages already installed: $wanted"
fi

# --- xrdp -------------------------------------------------------------------
if [ "$family" = debian ] && getent group ssl-cert >/dev/null; then
    if ! id -nG xrdp 2>/dev/null | tr ' ' '\n' | grep -qx ssl-cert; then
        adduser --quiet xrdp ssl-cert
        log "added the xrdp user to ssl-cert (xrdp reads the snakeoil key)"
    fi
fi

sesman_changed=
SESMAN_INI=/etc/xrdp/sesman.ini
if [ "$app_sessions" = 1 ] && [ -f "$SESMAN_INI" ]; then
    if ! grep -q '^Policy=UBC$' "$SESMAN_INI" || ! grep -q '^KillDisconnected=true$' "$SESMAN_INI"; then
        sed -i -e 's/^Policy=.*/Policy=UBC/' -e 's/^KillDisconnected=.*/KillDisconnected=true/' \
            -e 's/^DisconnectedTimeLimit=.*/DisconnectedTimeLimit=0/' "$SESMAN_INI"
        sesman_changed=1
        log "xrdp: one session per connection (Policy=UBC, KillDisconnected=true) for vmdesk app"
    fi
fi

have_systemd=0
[ -d /run/systemd/system ] && have_systemd=1
if [ "$have_systemd" = 1 ]; then
    for u in xrdp xrdp-sesman; do
        if ! systemctl is-enabled --quiet "$u" 2>/dev/null; then
            systemctl enable --quiet "$u" && log "enabled $u"
        fi
    done
    # Restart after the group change or a fresh install; a running xrdp with
    # nothing changed is left alone.
    if ! systemctl is-active --quiet xrdp || [ -n "$missing" ] || [ -n "$sesman_changed" ]; then
        systemctl restart xrdp-sesman xrdp && log "started xrdp"
    fi
    # The agent's unit starts from udev when QEMU's channel exists.
    if ! systemctl is-active --quiet qemu-guest-agent 2>/dev/null; then
        if systemctl start qemu-guest-agent 2>/dev/null; then
            log "started qemu-guest-agent"
        fi
    fi
else
    pidof xrdp >/dev/null || { xrdp-sesman && xrdp && log "started xrdp (no systemd)"; }
fi

# --- shared folder (9p) -------------------------------------------------------
if grep -qs "$SHARE_TAG" /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag 2>/dev/null ||
    { modprobe 9pnet_virtio 2>/dev/null &&
        grep -qs "$SHARE_TAG" /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; }; then
    mkdir -p "$SHARE_DIR"
    if ! grep -q "^$SHARE_TAG " /etc/fstab; then
        echo "$FSTAB_LINE" >>/etc/fstab
        log "added $SHARE_TAG -> $SHARE_DIR to /etc/fstab"
    fi
    if ! grep -q " $SHARE_DIR " /proc/mounts; then
        mount -t 9p -o trans=virtio,version=9p2000.L "$SHARE_TAG" "$SHARE_DIR" &&
            log "mounted the VM's shared folder on $SHARE_DIR"
    fi
else
    log "no 9p share ($SHARE_TAG) offered by the VM; RDP shares appear in the session under ~/thinclient_drives"
fi

# --- marker -------------------------------------------------------------------
mkdir -p "$MARKER_DIR"
new="vmdesk-tools $TOOLS_VERSION linux $family"
if [ "$(cat "$MARKER" 2>/dev/null)" != "$new" ]; then
    printf '%s\n' "$new" >"$MARKER"
    log "wrote $MARKER"
fi
log "done: xrdp $(systemctl is-active xrdp 2>/dev/null || echo '?'), guest tools version $TOOLS_VERSION"
