#!/usr/bin/env bash
# A private CUPS server for the integration tests: `cups.sh start DIR` prints CUPS_SERVER,
# WAYSTATION_CUPS_PDF_OUT and WAYSTATION_CUPS_RAW_PORT; `cups.sh stop DIR` ends it by its PID.
# Skipped when CUPS_SERVER is already set.
#
# Everything lives under DIR/cups (config, spool, logs, PDF output); the system's cupsd and its
# printers are never touched. Two queues:
#   WS_PDF  cups-pdf backend, PDFs land in DIR/cups/pdf-out
#   WS_RAW  socket://127.0.0.1:RAW_PORT, for a TCP listener the tests run
#
# cups-pdf reads its settings from a folder compiled into it (/etc/cups) and has no switch for
# another one. It does support one file per instance: device URI cups-pdf:/NAME reads
# /etc/cups/cups-pdf-NAME.conf. So this script adds its own cups-pdf-waystation-<id>.conf there
# (cups-pdf.conf itself is never edited) and removes it on stop.
#
# Needs root: cups-pdf is installed mode 0700 and only runs under a root cupsd.
set -euo pipefail
action=$1
base=$(realpath -m "$2")
dir=$base/cups
instance=waystation-$(printf '%s' "$dir" | md5sum | cut -c1-10)
pdf_conf=/etc/cups/cups-pdf-$instance.conf

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local p=$1
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}

case $action in
start)
    [ -n "${CUPS_SERVER:-}" ] && { echo "CUPS_SERVER=$CUPS_SERVER"; exit 0; }
    [ "$(id -u)" = 0 ] || { echo "cups.sh: needs root (cups-pdf runs only under a root cupsd)" >&2; exit 1; }
    command -v cupsd >/dev/null || PATH=$PATH:/usr/sbin
    command -v cupsd >/dev/null || { echo "cups.sh: cupsd not found (apt-get install cups)" >&2; exit 1; }
    ppd=/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd
    [ -f "$ppd" ] || { echo "cups.sh: $ppd not found (apt-get install printer-driver-cups-pdf)" >&2; exit 1; }

    port=$(free_port "${WAYSTATION_CUPS_PORT:-6631}")
    raw_port=$(free_port "${WAYSTATION_CUPS_RAW_PORT:-9191}")
    [ "$raw_port" = "$port" ] && raw_port=$(free_port $((port + 1)))

    rm -rf "$dir"
    mkdir -p "$dir"/{etc/ppd,spool/tmp,cache,state,log,pdf-out,pdf-spool,pdf-log}
    # Filters run as user lp: it must be able to reach the spool below DIR (traverse only).
    chmod a+x "$base" "$dir"
    chgrp lp "$dir/spool" "$dir/spool/tmp"
    chmod 0710 "$dir/spool"; chmod 1770 "$dir/spool/tmp"
    if command -v runuser >/dev/null && ! runuser -u lp -- test -x "$dir/spool"; then
        echo "cups.sh: user lp cannot reach $dir (a parent folder is private); use a folder" \
             "under /tmp, as scripts/test.sh does" >&2
        exit 1
    fi
    cp /etc/cups/raw.types /etc/cups/raw.convs "$dir/etc/" 2>/dev/null || true

    cat >"$dir/etc/cups-files.conf" <<EOF
ServerRoot $dir/etc
RequestRoot $dir/spool
TempDir $dir/spool/tmp
CacheDir $dir/cache
StateDir $dir/state
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
ServerBin /usr/lib/cups
DataDir /usr/share/cups
User lp
Group lp
SystemGroup root
FileDevice No
EOF
    cat >"$dir/etc/cupsd.conf" <<EOF
LogLevel warn
Listen 127.0.0.1:$port
Listen $dir/cups.sock
Browsing No
BrowseLocalProtocols none
WebInterface No
DefaultAuthType None
JobRetryInterval 1
<Location />
  Order allow,deny
  Allow 127.0.0.1
  Allow @LOCAL
</Location>
<Policy default>
  JobPrivateAccess all
  JobPrivateValues none
  SubscriptionPrivateAccess all
  SubscriptionPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
EOF
    cat >"$pdf_conf" <<EOF
# Written by Waystation's scripts/services/cups.sh for its private test CUPS ($dir);
# removed by 'cups.sh stop'. Safe to delete when no such server runs.
Out $dir/pdf-out
AnonDirName $dir/pdf-out
Spool $dir/pdf-spool
Log $dir/pdf-log
GSTmp $dir/pdf-spool
Label 2
LogType 3
EOF

    setsid cupsd -f -c "$dir/etc/cupsd.conf" -s "$dir/etc/cups-files.conf" \
        </dev/null >>"$dir/log/cupsd.out" 2>&1 &
    echo $! >"$dir/cupsd.pid"

    server=127.0.0.1:$port
    for _ in $(seq 100); do
        lpstat -h "$server" -r >/dev/null 2>&1 && break
        kill -0 "$(cat "$dir/cupsd.pid")" 2>/dev/null \
            || { echo "cups.sh: cupsd exited; see $dir/log" >&2; cat "$dir/log/"* >&2; exit 1; }
        sleep 0.02
    done
    lpstat -h "$server" -r >/dev/null || { echo "cups.sh: cupsd did not answer on $server" >&2; exit 1; }

    # lpadmin warns that PPDs and raw queues are deprecated (CUPS 3); that is known, not news.
    lpadmin -h "$server" -p WS_PDF -E -v "cups-pdf:/$instance" -P "$ppd" \
        -o printer-error-policy=abort-job 2>&1 | grep -v deprecated >&2 || true
    lpadmin -h "$server" -p WS_RAW -E -v "socket://127.0.0.1:$raw_port" -m raw \
        -o printer-error-policy=abort-job 2>&1 | grep -v deprecated >&2 || true
    lpstat -h "$server" -p WS_PDF >/dev/null && lpstat -h "$server" -p WS_RAW >/dev/null \
        || { echo "cups.sh: could not add the test queues; see $dir/log" >&2; exit 1; }

    echo "CUPS_SERVER=$server"
    echo "WAYSTATION_CUPS_PDF_OUT=$dir/pdf-out"
    echo "WAYSTATION_CUPS_RAW_PORT=$raw_port"
    ;;
stop)
    if [ -f "$dir/cupsd.pid" ]; then
        pid=$(cat "$dir/cupsd.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/cupsd.pid"
    fi
    rm -f "$pdf_conf"
    ;;
*)
    echo "usage: cups.sh start|stop DIR" >&2; exit 2
    ;;
esac
