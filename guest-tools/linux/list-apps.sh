#!/bin/sh
# list-apps.sh [USER...]: the applications installed in this Linux system, as
# JSON lines, for `vmdesk apps` (orchestrator/guest/guest_apps.c parses them).
#
# vmdesk runs it through the QEMU guest agent without installing it: the
# agent starts `sh -s -- USER...` and writes this script to its standard
# input. It also runs on any host against a private tree (the tests do):
# VMDESK_ROOT=DIR prefixes every system path, and VMDESK_HOME=DIR replaces
# the users' home folders. POSIX sh, awk, base64 (coreutils or busybox).
#
# Sources, in the freedesktop Desktop Entry lookup order (the first file with
# a given desktop id wins, so a user's copy overrides or hides the system's):
#   each USER's ~/.local/share/applications (no USER given: every user with
#   a uid from 1000 to 59999 and a home folder), /usr/local/share/applications,
#   /usr/share/applications, and the flatpak and snap export folders.
# Listed: Type=Application entries with an Exec, except NoDisplay=true,
# Hidden=true, Terminal=true (no window of their own to show), a TryExec that
# is not installed, a program not found, OnlyShowIn without one of the
# desktops in VMDESK_DESKTOPS (colon-separated, default none: such entries
# are parts of one desktop environment, such as its settings panels), and
# NotShowIn naming one of them.
#
# Output, one JSON object per line:
#   {"vmdesk-list-apps":1,"os":"linux"}
#   {"id":"debian-xterm","name":"XTerm","generic-name":"Terminal","comment":"...",
#    "exec":["xterm"],"program":"/usr/bin/xterm","args":[],
#    "mime-types":["..."],"categories":["System","TerminalEmulator"],
#    "source":"/usr/share/applications/debian-xterm.desktop","icon-name":"mini.xterm",
#    "icon":"/usr/share/icons/hicolor/scalable/apps/mini.xterm.svg","icon-data":"BASE64"}
#   ...
#   {"end":N}            N: the number of application lines (truncation shows)
# "args" are the Exec arguments after the program without field codes (%f,
# %U...); "icon" and "icon-data" are absent when no icon file was found (or
# it is larger than 1 MiB). Exit status 0 unless the script itself broke.

set -u
LC_ALL=C
export LC_ALL
R=${VMDESK_ROOT:-}
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:$PATH
US=$(printf '\037')
NL='
'
MAX_ICON=1048576

# The home folders of the users asked about ($@), or of every regular user.
homes() {
    if [ -n "${VMDESK_HOME:-}" ]; then
        printf '%s\n' "$VMDESK_HOME"
        return
    fi
    [ -r "$R/etc/passwd" ] || return
    while IFS=: read -r name _ uid _ _ home _; do
        if [ $# -gt 0 ]; then
            for u in "$@"; do
                [ "$u" = "$name" ] && printf '%s\n' "$R$home"
            done
        elif [ "$uid" -ge 1000 ] 2>/dev/null && [ "$uid" -lt 60000 ] && [ -d "$R$home" ]; then
            printf '%s\n' "$R$home"
        fi
    done <"$R/etc/passwd"
}

HOMES=$(homes "$@")

# Application folders and icon bases, in lookup order, one per line.
app_dirs() {
    printf '%s\n' "$HOMES" | while IFS= read -r h; do
        [ -n "$h" ] && printf '%s\n' "$h/.local/share/applications" \
            "$h/.local/share/flatpak/exports/share/applications"
    done
    printf '%s\n' "$R/usr/local/share/applications" "$R/usr/share/applications" \
        "$R/var/lib/flatpak/exports/share/applications" "$R/var/lib/snapd/desktop/applications"
}
ICON_BASES=$(
    printf '%s\n' "$HOMES" | while IFS= read -r h; do
        [ -n "$h" ] && printf '%s\n' "$h/.local/share/icons" "$h/.icons"
    done
    printf '%s\n' "$R/usr/local/share/icons" "$R/usr/share/icons" \
        "$R/var/lib/flatpak/exports/share/icons"
)
SIZES=$(printf '%s\n' scalable 256x256 512x512 192x192 128x128 96x96 72x72 64x64 48x48 42x42 \
    36x36 32x32 24x24 22x22 16x16)
# Unquoted expansions split at line ends only: paths may hold spaces.
IFS=$NL

# The best file for icon NAME: hicolor, then the other themes, larger first
# (scalable first), then the pixmaps folders. Prints nothing when none.
find_icon() {
    n=$1
    case $n in
    /*)
        [ -f "$R$n" ] && printf '%s\n' "$R$n"
        return
        ;;
    *.png | *.svg | *.xpm) n=${n%.*} ;;
    esac
    case $n in */* | '') return ;; esac
    for base in $ICON_BASES; do
        [ -d "$base" ] || continue
        themes=hicolor
        for t in "$base"/*/; do
            t=${t%/}
            t=${t##*/}
            [ "$t" = hicolor ] || [ "$t" = '*' ] || themes="$themes$NL$t"
        done
        for theme in $themes; do
            [ -d "$base/$theme" ] || continue
            for size in $SIZES; do
                [ -d "$base/$theme/$size" ] || continue
                for ext in svg png xpm; do
                    for f in "$base/$theme/$size"/*/"$n.$ext"; do
                        [ -f "$f" ] && { printf '%s\n' "$f"; return; }
                    done
                done
            done
        done
    done
    for d in "$R/usr/share/pixmaps" "$R/usr/local/share/pixmaps"; do
        for ext in svg png xpm; do
            [ -f "$d/$n.$ext" ] && { printf '%s\n' "$d/$n.$ext"; return; }
        done
    done
}

# $1 as a JSON string's inside (paths found here: rarely anything to escape).
json_str() {
    case $1 in
    *[\"\\]* | *[[:cntrl:]]*)
        printf '%s' "$1" | awk 'BEGIN { ORS = "" } { gsub(/[[:cntrl:]]/, " "); n = length($0)
            for (i = 1; i <= n; i++) { c = substr($0, i, 1)
                if (c == "\\" || c == "\"") printf "\\"; printf "%s", c } }'
        ;;
    *) printf '%s' "$1" ;;
    esac
}

# The desktop files as "id=ID FILE" pairs of awk operands, in lookup order.
set --
for d in $(app_dirs); do
    [ -d "$d" ] || continue
    for f in "$d"/*.desktop "$d"/*/*.desktop; do
        [ -f "$f" ] || continue
        rel=${f#"$d"/}
        id=$(printf '%s' "${rel%.desktop}" | tr '/' '-')
        set -- "$@" "id=$id" "$f"
    done
done

printf '%s\n' '{"vmdesk-list-apps":1,"os":"linux"}'
if [ $# -gt 0 ]; then
    awk -v desktops="${VMDESK_DESKTOPS:-}" '
function esc(s,    out, i, n, c) {
    if (s !~ /[\\"[:cntrl:]]/) return s
    out = ""; n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\" || c == "\"") out = out "\\" c
        else if (c == "\t") out = out "\\t"
        else if (c ~ /[[:cntrl:]]/) out = out " "
        else out = out c
    }
    return out
}
function unescape(s,    out, i, n, c, d) {
    out = ""; n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < n) {
            d = substr(s, ++i, 1)
            if (d == "s") c = " "; else if (d == "n" || d == "t" || d == "r") c = " "
            else if (d == "\\") c = "\\"; else c = "\\" d
        }
        out = out c
    }
    return out
}
# A ;-separated list as a JSON array.
function list(s,    a, n, i, out, sep) {
    n = split(s, a, ";"); out = "["; sep = ""
    for (i = 1; i <= n; i++) if (a[i] != "") { out = out sep "\"" esc(a[i]) "\""; sep = "," }
    return out "]"
}
function shown_in(s,    a, d, n, m, i, j) {
    n = split(s, a, ";"); m = split(desktops, d, ":")
    for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (a[i] != "" && a[i] == d[j]) return 1
    return 0
}
# The Exec value (string escapes undone) split by the spec quoting rules into
# W[1..], field codes dropped, "%%" made "%". Returns the count; -1 if broken.
function split_exec(s,    n, i, c, w, inq, have, len) {
    n = 0; w = ""; inq = 0; have = 0; len = length(s)
    for (i = 1; i <= len; i++) {
        c = substr(s, i, 1)
        if (inq) {
            if (c == "\\" && i < len) { w = w substr(s, ++i, 1); continue }
            if (c == "\"") { inq = 0; continue }
            w = w c; continue
        }
        if (c == " " || c == "\t") { if (have) { W[++n] = w; w = ""; have = 0 } continue }
        if (c == "\"") { inq = 1; have = 1; continue }
        if (c == "%" && i < len) {
            c = substr(s, ++i, 1)
            if (c == "%") { w = w "%"; have = 1 }
            continue
        }
        w = w c; have = 1
    }
    if (inq) return -1
    if (have) W[++n] = w
    return n
}
function flush(    e, n, i, args, ex) {
    if (file == "") return
    if (cur in seen) return
    seen[cur] = 1
    if (K["Type"] != "Application" || K["Exec"] == "" || K["Name"] == "") return
    if (K["NoDisplay"] == "true" || K["Hidden"] == "true" || K["Terminal"] == "true") return
    if (("OnlyShowIn" in K) && !shown_in(K["OnlyShowIn"])) return
    if (("NotShowIn" in K) && shown_in(K["NotShowIn"])) return
    split("", W)
    n = split_exec(unescape(K["Exec"]))
    if (n < 1) return
    args = "["; ex = "[\"" esc(W[1]) "\""
    for (i = 2; i <= n; i++) {
        args = args (i > 2 ? "," : "") "\"" esc(W[i]) "\""
        ex = ex ",\"" esc(W[i]) "\""
    }
    e = "{\"id\":\"" esc(cur) "\",\"name\":\"" esc(unescape(K["Name"])) "\""
    if ("GenericName" in K) e = e ",\"generic-name\":\"" esc(unescape(K["GenericName"])) "\""
    if ("Comment" in K) e = e ",\"comment\":\"" esc(unescape(K["Comment"])) "\""
    e = e ",\"exec\":" ex "],\"args\":" args "]"
    e = e ",\"mime-types\":" list(K["MimeType"]) ",\"categories\":" list(K["Categories"])
    e = e ",\"source\":\"" esc(file) "\""
    if ("Icon" in K) e = e ",\"icon-name\":\"" esc(unescape(K["Icon"])) "\""
    gsub(/[\037\n]/, " ", W[1])
    print W[1] "\037" unescape(K["TryExec"]) "\037" unescape(K["Icon"]) "\037" e
}
FNR == 1 { flush(); split("", K); group = ""; file = FILENAME; cur = id }
/^[ \t]*(#|$)/ { next }
/^\[/ { group = $0; sub(/[ \t\r]+$/, "", group); next }
group == "[Desktop Entry]" {
    eq = index($0, "="); if (!eq) next
    k = substr($0, 1, eq - 1); v = substr($0, eq + 1)
    sub(/[ \t]+$/, "", k); sub(/^[ \t]+/, "", v); sub(/[ \t\r]+$/, "", v)
    if (k == "Name" && v == "") next
    if (!(k in K)) K[k] = v
}
END { flush(); print "\037end" }
' "$@"
else
    printf '\037end\n'
fi | {
    # awk's last line says it got through: without it the listing is cut short.
    count=0
    while IFS=$US read -r prog tryexec icon json; do
        if [ -z "$prog" ] && [ "$tryexec" = end ]; then
            printf '{"end":%d}\n' "$count"
            exit 0
        fi
        if [ -n "$tryexec" ]; then
            case $tryexec in
            /*) [ -x "$R$tryexec" ] || continue ;;
            *) command -v "$tryexec" >/dev/null 2>&1 || continue ;;
            esac
        fi
        case $prog in
        /*) [ -x "$R$prog" ] || continue; path=$prog ;;
        *) path=$(command -v "$prog" 2>/dev/null) || continue
            case $path in /*) ;; *) continue ;; esac
            [ -n "$R" ] && path=${path#"$R"} ;;
        esac
        printf '%s,"program":"%s"' "$json" "$(json_str "$path")"
        f=
        [ -n "$icon" ] && f=$(find_icon "$icon")
        if [ -n "$f" ] && [ $(($(wc -c <"$f"))) -le $MAX_ICON ]; then
            printf ',"icon":"%s","icon-data":"' "$(json_str "$f")"
            base64 <"$f" | tr -d '\n\r'
            printf '"'
        fi
        printf '}\n'
        count=$((count + 1))
    done
    echo "list-apps.sh: awk failed; the listing is incomplete" >&2
    exit 1
}
