# Shared by the stand-in launcher, HTTP handler and benchmark (busybox sh).
# Knobs come from a shell file in the mounted weight cache, so a test steers one
# host by writing <host cache dir>/standin.conf. See tests/simfleet/standin/README.md.

STANDIN_LIB=/usr/local/lib/standin
STANDIN_STATE=/tmp/standin

load_knobs() {
    STARTUP_SECONDS=1
    FAIL_AT_START=
    REQUIRE_TOKEN=
    RUN_SECONDS=0.05
    HANG=
    FAIL_BATCH=
    TGI_VERSION=3.3.5
    conf=${STANDIN_CONF:-${HF_HOME:-/data}/standin.conf}
    if [ -r "$conf" ]; then
        . "$conf"
    fi
}

# tracing-subscriber's default format: "<RFC 3339 UTC>  INFO target: message".
# busybox date has no %N: fractions come from /proc/uptime, anchored once.
TS_EPOCH=$(date +%s)
TS_UPTIME=$(cut -d' ' -f1 /proc/uptime)
timestamp() {
    TZ=UTC awk -v e="$TS_EPOCH" -v u0="$TS_UPTIME" 'BEGIN {
        getline u < "/proc/uptime"; split(u, a, " ")
        t = e + a[1] - u0; s = int(t)
        printf "%s.%02d0000Z", strftime("%Y-%m-%dT%H:%M:%S", s), int((t - s) * 100 + 0.5) % 100
    }'
}

# log LEVEL TARGET MESSAGE...
log() {
    level=$1 target=$2
    shift 2
    printf '%s %5s %s: %s\n' "$(timestamp)" "$level" "$target" "$*"
}

# version_ge A B: true when version A >= B (numeric, dot separated).
version_ge() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        na = split(a, x, "."); nb = split(b, y, ".")
        for (i = 1; i <= 3; i++) {
            if (x[i] + 0 > y[i] + 0) exit 0
            if (x[i] + 0 < y[i] + 0) exit 1
        }
        exit 0
    }'
}

# fsleep SECONDS: an interruptible sleep, so traps run at once.
fsleep() {
    sleep "$1" &
    wait $!
}
