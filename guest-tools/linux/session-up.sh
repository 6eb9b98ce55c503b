#!/bin/sh
# vmdesk guest tools: tells vmdesk when the desktop of an X session is up.
#
# Started in the background at the start of every X session (install.sh
# hooks it into /etc/X11/Xsession.d/, which xrdp's startwm.sh runs through
# /etc/X11/Xsession), with the session's DISPLAY. It waits until a window
# manager runs on that display (the root window's _NET_SUPPORTING_WM_CHECK,
# which every EWMH window manager sets once it manages the screen: IceWM,
# Xfwm, Openbox, Mutter, KWin...), then writes the display's number to
# ~/.cache/vmdesk/session-up and ends. (In the home folder, not in
# $XDG_RUNTIME_DIR: xrdp sessions have none without libpam-systemd.)
#
# vmdesk's desktop window reads that file through the guest agent while an
# RDP session connects behind its VNC picture (client/ui/switch.h): before
# it, xrdp's picture is the bare X root of a starting session, black or
# half painted; after it, the user's desktop. A file older than the X
# server's socket (/tmp/.X11-unix/XN) is from an earlier session on that
# display and says nothing. Without this file (no guest tools, a window
# manager without EWMH) vmdesk waits a few seconds instead.
#
# Needs xprop (x11-utils); without it, it does nothing.
set -u

[ -n "${DISPLAY:-}" ] && [ -n "${HOME:-}" ] || exit 0
command -v xprop >/dev/null 2>&1 || exit 0
dir=$HOME/.cache/vmdesk
mkdir -p "$dir" && chmod 700 "$dir" || exit 0
display=${DISPLAY#*:}
display=${display%%.*}
case $display in '' | *[!0-9]*) exit 0 ;; esac

marker=$dir/session-up
fifo=$dir/session-up.$$
rm -f "$marker" "$fifo"
mkfifo -m 600 "$fifo" || exit 0
# xprop -spy prints the property now and at each change: no polling
# (line-buffered through the fifo: stdbuf).
stdbuf -oL xprop -root -notype -spy _NET_SUPPORTING_WM_CHECK >"$fifo" 2>/dev/null &
spy=$!
while read -r line; do
    case $line in
    *"window id"*)
        printf '%s\n' "$display" >"$marker.tmp" && mv -f "$marker.tmp" "$marker"
        break
        ;;
    esac
done <"$fifo"
kill "$spy" 2>/dev/null
rm -f "$fifo"
