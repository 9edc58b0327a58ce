#!/bin/sh
# Stand-in for `python3 -m sglang.bench_serving` of SGLang 0.5.14: its arguments, its output, one JSON line
# appended to --output-file. It really talks to the server (/v1/models, the warm-up and one request of the
# workload, /server_info); the numbers come from the formulas in tests/simfleet/standin_serving/README.md and
# BENCH_SECONDS is the wall time of a run.
. /usr/local/lib/standin/serving.sh
load_knobs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/args"
[ $# -gt 0 ] && printf '%s\n' "$@" > "$work/args"
SRC=/sgl-workspace/sglang/python/sglang
PY=/usr/local/lib/python3.12/dist-packages

usage() { echo "usage: bench_serving.py [-h] [--backend BACKEND] [--base-url BASE_URL] [--host HOST] [--port PORT] [options]"; }
ARGERR= HELP=
eval "$(awk -v layout=bench -v prefix=1 -v out="$work/values" -f "$STANDIN_LIB/args.awk" \
    "$STANDIN_LIB/sglang_bench_args.tsv" "$work/args")"
if [ -n "$HELP" ]; then
    usage
    exit 0
fi
if [ -n "$ARGERR" ]; then
    usage >&2
    echo "bench_serving.py: error: $ARGERR" >&2
    exit 2
fi

namespace() { awk -F'\t' '{ s = s (NR > 1 ? ", " : "") $1 "=" $4 } END { print "Namespace(" s ")" }' "$work/values"; }
set_value() {   # DEST RAW REPR: what run_benchmark fills in (port, model)
    awk -F'\t' -v OFS='\t' -v d="$1" -v raw="$2" -v repr="$3" '$1 == d { $4 = repr; $5 = raw } { print }' \
        "$work/values" > "$work/values.new" && mv "$work/values.new" "$work/values"
}
# crash FRAMES...: an uncaught exception of bench_serving (the frames below run_benchmark, then the error).
crash() {
    {
        echo "Traceback (most recent call last):"
        echo '  File "<frozen runpy>", line 198, in _run_module_as_main'
        echo '  File "<frozen runpy>", line 88, in _run_code'
        echo "  File \"$SRC/bench_serving.py\", line 2671, in <module>"
        echo "    run_benchmark(args)"
        echo "  File \"$SRC/bench_serving.py\", line 2286, in run_benchmark"
        printf '%s\n' "$@"
    } >&2
    exit 1
}
in_benchmark() {   # the frames down to benchmark()
    echo "    return asyncio.run("
    echo "           ^^^^^^^^^^^^"
    echo '  File "/usr/lib/python3.12/asyncio/runners.py", line 195, in run'
    echo "    return runner.run(main)"
    echo "           ^^^^^^^^^^^^^^^^"
    echo '  File "/usr/lib/python3.12/asyncio/base_events.py", line 691, in run_until_complete'
    echo "    return future.result()"
    echo "           ^^^^^^^^^^^^^^^"
}
connect_error() {   # URL: aiohttp's error for a refused connection, as the request function records it
    set -- $(url_host_port "$1")
    cat <<EOF
Traceback (most recent call last):
  File "$PY/aiohttp/connector.py", line 1268, in _wrap_create_connection
    sock = await aiohappyeyeballs.start_connection(
ConnectionRefusedError: [Errno 111] Connect call failed ('$1', $2)

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "$SRC/bench_serving.py", line 263, in async_request_sglang_generate
    async with session.post(url=api_url, json=payload, headers=headers) as response:
aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host $1:$2 ssl:default [Connect call failed ('$1', $2)]
EOF
}

echo "benchmark_args=$(namespace)"
if [ -z "$A_port" ]; then
    case $A_backend in
    vllm | vllm-chat | trt) A_port=8000 ;;
    lmdeploy | lmdeploy-chat) A_port=23333 ;;
    truss) A_port=8080 ;;
    gserver) A_port=9988 ;;
    *) A_port=30000 ;;
    esac
    set_value port "$A_port" "$A_port"
fi
base_url=${A_base_url:-http://$A_host:$A_port}
model_url=$base_url/v1/models
case $A_backend in
sglang | sglang-native) api_url=$base_url/generate ;;
sglang-oai | vllm | lmdeploy) api_url=$base_url/v1/completions ;;
*) echo "gpubench stand-in: --backend $A_backend is not modelled (only sglang, sglang-native, sglang-oai, vllm)" >&2; exit 2 ;;
esac

if [ "$A_ready_check_timeout_sec" -gt 0 ]; then
    echo "Waiting up to ${A_ready_check_timeout_sec}s for $model_url to become ready..."
    start=$(cut -d' ' -f1 /proc/uptime)
    until models=$(http_request GET "$model_url"); do
        if awk -v s="$start" -v t="$A_ready_check_timeout_sec" '{ exit !($1 - s >= t) }' /proc/uptime; then
            crash "    wait_for_server_ready(model_url, timeout_sec=args.ready_check_timeout_sec)" \
                "  File \"$SRC/bench_serving.py\", line 2210, in wait_for_server_ready" \
                "    raise RuntimeError(" \
                "RuntimeError: Server at $model_url did not become ready within ${A_ready_check_timeout_sec}s"
        fi
        fsleep 1
    done
    echo "Server ready in $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)s."
fi

if [ -z "$A_model" ]; then
    if ! models=$(http_request GET "$model_url"); then
        set -- $(url_host_port "$model_url")
        echo "Failed to fetch model from $model_url. Error: ${HTTP_STATUS:-HTTPConnectionPool(host='$1', port=$2): Max retries exceeded with url: /v1/models (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3a1c2b5e80>: Failed to establish a new connection: [Errno 111] Connection refused'))}"
        echo "Please specify the correct host and port using \`--host\` and \`--port\`."
        exit 1
    fi
    A_model=$(echo "$models" | sed -n 's/^{"object":"list","data":\[{"id":"\([^"]*\)".*/\1/p')
    set_value model "$A_model" "'$A_model'"
fi
tokenizer_id=${A_tokenizer:-$A_model}
if token_refused; then
    crash "    tokenizer = get_tokenizer(tokenizer_id)" \
        "  File \"$PY/transformers/utils/hub.py\", line 543, in cached_files" \
        "    raise OSError(" \
        "OSError: You are trying to access a gated repo." \
        "Make sure to have access to it at https://huggingface.co/$tokenizer_id." \
        "$(gated_repo_error "$tokenizer_id" tokenizer_config.json | sed 's/^huggingface_hub.errors.GatedRepoError: //')"
fi
echo "$(namespace)"
echo ""
case $A_dataset_name in
random | random-ids) ;;
*) echo "gpubench stand-in: --dataset-name $A_dataset_name is not modelled (only random and random-ids)" >&2; exit 2 ;;
esac

if [ "$A_num_prompts" -le 0 ]; then
    echo "#Input tokens: 0"
    echo "#Output tokens: 0"
    echo "Starting warmup with $A_warmup_requests sequences..."
    crash "$(in_benchmark)" "  File \"$SRC/bench_serving.py\", line 1618, in benchmark" \
        "    test_request = input_requests[0]" "                   ~~~~~~~~~~~~~~^^^" \
        "IndexError: list index out of range"
fi
plan=$(awk -v tool=sglang -v mode=plan -f "$STANDIN_LIB/bench.awk" "$work/values")
set -- $(echo "$plan" | sed -n 's/^bounds //p')
in_lo=$1
out_hi=$4
set -- $(echo "$plan" | sed -n 's/^totals //p')
echo "#Input tokens: $1"
echo "#Output tokens: $2"

ignore_eos=true
[ "$A_disable_ignore_eos" = True ] && ignore_eos=false
payload() {   # MAX_TOKENS: one request of the workload, as the backend's request function sends it
    awk -v backend="$A_backend" -v m="$A_model" -v n="$in_lo" -v out="$1" -v eos="$ignore_eos" 'BEGIN {
        p = ""; for (i = 0; i < n; i++) p = p (i ? " " : "") "hi"
        if (backend ~ /^sglang/ && backend != "sglang-oai")
            printf "{\"text\": \"%s\", \"sampling_params\": {\"temperature\": 0.0, \"max_new_tokens\": %d, \"ignore_eos\": %s}, \"stream\": true, \"return_logprob\": false, \"logprob_start_len\": -1}", p, out, eos
        else
            printf "{\"model\": \"%s\", \"prompt\": \"%s\", \"temperature\": 0.0, \"best_of\": 1, \"max_tokens\": %d, \"stream\": true, \"ignore_eos\": %s}", m, p, out, eos
    }'
}
probe() {   # MAX_TOKENS: 0 = answered, else the error the request function records in $work/error
    if http_request POST "$api_url" "$(payload "$1")" > /dev/null; then
        return 0
    elif [ -n "$HTTP_STATUS" ]; then
        echo "${HTTP_STATUS#* }" > "$work/error"
    else
        connect_error "$api_url" > "$work/error"
    fi
    return 1
}

echo "Starting warmup with $A_warmup_requests sequences..."
if [ "$A_warmup_requests" -gt 0 ] && ! probe "$((out_hi < 32 ? out_hi : 32))"; then
    crash "$(in_benchmark)" \
        "  File \"$SRC/bench_serving.py\", line 1652, in benchmark" \
        "    raise ValueError(" \
        "ValueError: Warmup failed - Please make sure benchmark arguments are correctly specified. Error: $(cat "$work/error")"
fi
echo "Warmup completed with $A_warmup_requests sequences. Starting main benchmark run..."

n=$A_num_prompts
progress 0 "$n" 0
failed=
if ! probe "$out_hi"; then
    failed=1
elif [ -n "$FAIL_CONCURRENCY" ] && [ "$FAIL_CONCURRENCY" = "$A_max_concurrency" ]; then
    failed=1
fi
if [ -n "$failed" ]; then
    fsleep 0.1
    progress "$n" "$n" 0.1
    echo >&2
    {
        echo "$SRC/bench_serving.py:1412: UserWarning: All requests failed. This is likely due to a misconfiguration on the benchmark arguments."
        echo "  warnings.warn("
        echo "$PY/numpy/_core/fromnumeric.py:3860: RuntimeWarning: Mean of empty slice."
        echo "  return _methods._mean(a, axis=axis, dtype=dtype,"
        echo "$PY/numpy/_core/_methods.py:145: RuntimeWarning: invalid value encountered in scalar divide"
        echo "  ret = ret.dtype.type(ret / rcount)"
    } >&2
    crash "$(in_benchmark)" \
        "  File \"$SRC/bench_serving.py\", line 1713, in benchmark" \
        "    metrics, output_lens = calculate_metrics(" \
        "                           ^^^^^^^^^^^^^^^^^^" \
        "  File \"$SRC/bench_serving.py\", line 1480, in calculate_metrics" \
        "    p90_e2e_latency_ms=np.percentile(e2e_latencies, 90) * 1000," \
        "                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" \
        "  File \"$PY/numpy/lib/_function_base_impl.py\", line 4238, in percentile" \
        "    return _quantile_unchecked(" \
        "  File \"$PY/numpy/lib/_function_base_impl.py\", line 4517, in _quantile_unchecked" \
        "    return _ureduce(a," \
        "  File \"$PY/numpy/lib/_function_base_impl.py\", line 4757, in _quantile" \
        "    slices_having_nans = np.isnan(arr[-1, ...])" \
        "                                  ~~~^^^^^^^^" \
        "IndexError: index -1 is out of bounds for axis 0 with size 0"
fi
run_for_bench_seconds "$n"

http_request GET "$base_url/server_info" > "$work/server_info" || : > "$work/server_info"
out=$A_output_file
if [ -z "$out" ]; then
    out="${A_backend}_$(date +%m%d)_${n}_${A_random_input_len}_${A_random_output_len}.jsonl"
fi
awk -v tool=sglang -v mode=run -v out="$out" -v server_info="$work/server_info" \
    -f "$STANDIN_LIB/bench.awk" "$work/values"
