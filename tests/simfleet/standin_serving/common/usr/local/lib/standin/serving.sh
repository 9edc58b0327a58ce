# Shared by the vLLM and SGLang stand-ins (busybox sh): knobs, logs, ports, tokens, weights, HTTP client.
# See tests/simfleet/standin_serving/README.md.

STANDIN_LIB=/usr/local/lib/standin
STANDIN_STATE=/tmp/standin
HF_CACHE=${HF_HOME:-/root/.cache/huggingface}

# The knob file: <host cache dir>/standin.conf, wherever the collector mounted that folder.
find_conf() {
    for conf in "$STANDIN_CONF" "${HF_HOME:+$HF_HOME/standin.conf}" /root/.cache/huggingface/standin.conf \
        /data/standin.conf; do
        if [ -n "$conf" ] && [ -r "$conf" ]; then
            echo "$conf"
            return
        fi
    done
    while read -r _ mount_point _; do
        if [ -r "$mount_point/standin.conf" ]; then
            echo "$mount_point/standin.conf"
            return
        fi
    done < /proc/self/mounts
}

load_knobs() {
    STARTUP_SECONDS=1
    FAIL_AT_START=
    REQUIRE_TOKEN=
    BENCH_SECONDS=0.5
    FAIL_CONCURRENCY=
    conf=$(find_conf)
    if [ -n "$conf" ]; then
        . "$conf"
    fi
}

# fsleep SECONDS: an interruptible sleep, so traps run at once.
fsleep() {
    sleep "$1" &
    wait $!
}

# phase FRACTION: that share of STARTUP_SECONDS, in seconds.
phase() { awk -v t="$STARTUP_SECONDS" -v f="$1" 'BEGIN { printf "%.2f", t * f }'; }

# port_in_use PORT: something listens on that TCP port (any address) in this network namespace.
port_in_use() {
    awk -v port="$(printf ':%04X' "$1")" '
        $4 == "0A" && substr($2, length($2) - 4) == port { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# token_refused: the model is gated (REQUIRE_TOKEN) and this process has no acceptable token.
token_refused() {
    token=${HF_TOKEN:-$HUGGING_FACE_HUB_TOKEN}
    [ -n "$REQUIRE_TOKEN" ] || return 1
    [ -z "$token" ] && return 0
    case $REQUIRE_TOKEN in
    1 | yes) return 1 ;;
    esac
    [ "$token" != "$REQUIRE_TOKEN" ]
}

# The lines huggingface_hub prints for a gated repo without access (no token value in them).
gated_repo_error() {   # MODEL FILE
    echo "huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: Root=1-6877c0de-standin)"
    echo ""
    echo "Cannot access gated repo for url https://huggingface.co/$1/resolve/main/$2."
    echo "Access to model $1 is restricted. You must have access to it and be authenticated to access it. Please log in."
}

model_sha() { printf '%s@main' "$1" | sha1sum | cut -c1-40; }

# write_weights MODEL: what a download leaves in the Hugging Face cache (a tiny file).
write_weights() {
    snapshot=$HF_CACHE/hub/models--$(echo "$1" | sed 's|/|--|g')/snapshots/$(model_sha "$1")
    if [ ! -f "$snapshot/model.safetensors" ]; then
        mkdir -p "$snapshot" 2>/dev/null && echo "stand-in weights for $1" > "$snapshot/model.safetensors"
    fi
}

# http_request METHOD URL [BODY]: the body on stdout; returns 0 on 2xx, 1 if the host cannot be reached
# (HTTP_ERROR = wget's message), 2 on another status (HTTP_STATUS = e.g. "404 Not Found").
http_request() {
    HTTP_ERROR= HTTP_STATUS=
    err=$(mktemp)
    if [ "$1" = POST ]; then
        timeout 60 wget -q -O - --header 'Content-Type: application/json' --post-data "$3" "$2" 2>"$err"
    else
        timeout 60 wget -q -O - "$2" 2>"$err"
    fi
    rc=$?
    message=$(cat "$err")
    rm -f "$err"
    [ $rc -eq 0 ] && return 0
    case $message in
    *"server returned error: HTTP/"*)
        HTTP_STATUS=${message#*server returned error: HTTP/1.? }
        HTTP_STATUS=${HTTP_STATUS%%"
"*}
        return 2 ;;
    esac
    HTTP_ERROR=$message
    return 1
}

# url_host_port URL: "host port" of an http URL (port 80 by default).
url_host_port() {
    rest=${1#*://}
    rest=${rest%%/*}
    case $rest in
    \[*\]:*) echo "${rest%]:*} ${rest##*:}" | tr -d '[' ;;
    *:*) echo "${rest%:*} ${rest##*:}" ;;
    *) echo "$rest 80" ;;
    esac
}

# progress DONE TOTAL ELAPSED_SECONDS: one tqdm update on stderr.
progress() {
    awk -v done="$1" -v total="$2" -v t="$3" -f "$STANDIN_LIB/tqdm.awk" >&2
}

# run_for_bench_seconds TOTAL: the wall time of a run (BENCH_SECONDS), with a progress update every tenth of it
# whenever more requests are done, then tqdm's closing newline.
run_for_bench_seconds() {
    step=$(awk -v t="$BENCH_SECONDS" 'BEGIN { print t / 10 }')
    shown=0
    for k in 1 2 3 4 5 6 7 8 9 10; do
        fsleep "$step"
        done_now=$(($1 * k / 10))
        if [ "$done_now" -gt "$shown" ]; then
            progress "$done_now" "$1" "$(awk -v s="$step" -v k="$k" 'BEGIN { print s * k }')"
            shown=$done_now
        fi
    done
    echo >&2
}
