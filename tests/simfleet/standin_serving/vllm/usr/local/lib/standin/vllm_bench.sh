#!/bin/sh
# Stand-in for `vllm bench serve` of vLLM 0.33: its arguments, its output, the result JSON. It really talks to
# the server (one request of the workload, and /v1/models without --model); the numbers come from the formulas
# in tests/simfleet/standin_serving/README.md and BENCH_SECONDS is the wall time of a run.
. /usr/local/lib/standin/serving.sh
load_knobs

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: > "$work/args"
[ $# -gt 0 ] && printf '%s\n' "$@" > "$work/args"
PY=/usr/local/lib/python3.12/dist-packages

usage() { echo "usage: vllm bench serve [-h] [options]"; }
ARGERR= HELP=
eval "$(awk -v layout=bench -v prefix=0 -v out="$work/values" -f "$STANDIN_LIB/args.awk" \
    "$STANDIN_LIB/vllm_bench_args.tsv" "$work/args")"
if [ -n "$HELP" ]; then
    usage
    exit 0
fi
if [ -n "$ARGERR" ]; then
    usage >&2
    echo "vllm bench serve: error: $ARGERR" >&2
    exit 2
fi

# crash FUNCTION CODE EXCEPTION...: an uncaught exception raised in vllm/benchmarks/serve.py, exit 1.
crash() {
    func=$1 code=$2
    shift 2
    {
        echo "Traceback (most recent call last):"
        echo '  File "/usr/local/bin/vllm", line 10, in <module>'
        echo "    sys.exit(main())"
        echo "             ^^^^^^"
        echo "  File \"$PY/vllm/entrypoints/cli/main.py\", line 73, in main"
        echo "    args.dispatch_function(args)"
        echo "  File \"$PY/vllm/entrypoints/cli/benchmark/serve.py\", line 21, in cmd"
        echo "    main(args)"
        echo "  File \"$PY/vllm/benchmarks/serve.py\", line 1570, in main"
        echo "    return asyncio.run(main_async(args))"
        echo "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
        echo '  File "/usr/lib/python3.12/asyncio/runners.py", line 195, in run'
        echo "    return runner.run(main)"
        echo "           ^^^^^^^^^^^^^^^^"
        echo '  File "/usr/lib/python3.12/asyncio/base_events.py", line 691, in run_until_complete'
        echo "    return future.result()"
        echo "           ^^^^^^^^^^^^^^^"
        echo "  File \"$PY/vllm/benchmarks/serve.py\", line 1642, in $func"
        echo "    $code"
        printf '%s\n' "$@"
    } >&2
    exit 1
}

# aiohttp's error for a refused connection, as the request function records it (a formatted traceback).
connect_error() {   # URL
    set -- $(url_host_port "$1")
    cat <<EOF
Traceback (most recent call last):
  File "$PY/aiohttp/connector.py", line 1268, in _wrap_create_connection
    sock = await aiohappyeyeballs.start_connection(
  File "$PY/aiohappyeyeballs/impl.py", line 122, in start_connection
    raise first_exception
  File "/usr/lib/python3.12/asyncio/selector_events.py", line 681, in sock_connect
    return await fut
ConnectionRefusedError: [Errno 111] Connect call failed ('$1', $2)

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "$PY/vllm/benchmarks/lib/endpoint_request_func.py", line 226, in async_request_openai_completions
    async with session.post(url=api_url, json=payload, headers=headers) as response:
  File "$PY/aiohttp/client.py", line 1488, in __aenter__
    self._resp: _RetType = await self._coro
  File "$PY/aiohttp/connector.py", line 1283, in _wrap_create_connection
    raise client_error(req.connection_key, exc) from exc
aiohttp.client_exceptions.ClientConnectorError: Cannot connect to host $1:$2 ssl:default [Connect call failed ('$1', $2)]
EOF
}

v() { awk -F'\t' -v d="$1" '$1 == d { print $5; exit }' "$work/values"; }

# The Namespace, as Python prints it (a random request-id prefix, a function address).
hex=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
awk -F'\t' -v prefix="bench-$hex-" -v address="0x7f$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')" '
    { s = s (NR > 1 ? ", " : "") $1 "=" $4 }
    END { gsub(/@RANDOM_PREFIX@/, prefix, s); gsub(/@ADDRESS@/, address, s); print "Namespace(" s ")" }' "$work/values"

if [ -n "$A_max_concurrency" ] && [ "$A_max_concurrency" -le 0 ]; then
    crash main_async 'raise ValueError("--max-concurrency must be greater than 0")' \
        "ValueError: --max-concurrency must be greater than 0"
fi
if [ -n "$A_base_url" ]; then
    base_url=$A_base_url
else
    case $A_host in *:*) base_url="http://[$A_host]:$A_port" ;; *) base_url="http://$A_host:$A_port" ;; esac
fi
api_url=$base_url$A_endpoint

if [ -z "$A_model" ]; then
    echo "Model not specified, fetching first model from server..."
    if ! models=$(http_request GET "$base_url/v1/models"); then
        if [ -n "$HTTP_STATUS" ]; then
            cause="$HTTP_STATUS, message='${HTTP_STATUS#* }', url='$base_url/v1/models'"
        else
            set -- $(url_host_port "$base_url")
            cause="Cannot connect to host $1:$2 ssl:default [Connect call failed ('$1', $2)]"
        fi
        crash main_async "model_name, model_id = await get_first_model_from_server(" \
            "RuntimeError: Failed to fetch models from server at $base_url/v1/models. Check that:" \
            "1. The server is running" "2. The server URL is correct" "Error: $cause"
    fi
    model_name=$(echo "$models" | sed -n 's/^{"object":"list","data":\[{"id":"\([^"]*\)".*/\1/p')
    model_id=$(echo "$models" | sed -n 's/^{"object":"list","data":\[{[^}]*"root":"\([^"]*\)".*/\1/p')
    echo "First model name: $model_name, first model id: $model_id"
else
    model_name=$A_served_model_name
    model_id=$A_model
fi
tokenizer_id=${A_tokenizer:-$model_id}

if token_refused; then
    {
        echo "Traceback (most recent call last):"
        echo "  File \"$PY/transformers/utils/hub.py\", line 479, in cached_files"
        echo "    hf_hub_download("
        gated_repo_error "$tokenizer_id" tokenizer_config.json
        echo ""
        echo "The above exception was the direct cause of the following exception:"
        echo ""
    } >&2
    crash main_async "tokenizer = get_tokenizer(" "OSError: You are trying to access a gated repo." \
        "Make sure to have access to it at https://huggingface.co/$tokenizer_id." \
        "$(gated_repo_error "$tokenizer_id" tokenizer_config.json | sed 's/^huggingface_hub.errors.GatedRepoError: //')"
fi
case $A_dataset_name in
random) ;;
*) echo "gpubench stand-in: --dataset-name $A_dataset_name is not modelled (only random)" >&2; exit 2 ;;
esac
case $A_backend in
openai | vllm) ;;
*) echo "gpubench stand-in: --backend $A_backend is not modelled (only openai and vllm)" >&2; exit 2 ;;
esac

plan=$(awk -v tool=vllm -v mode=plan -f "$STANDIN_LIB/bench.awk" "$work/values")
case $plan in
error*)
    crash main_async "input_requests = get_samples(args, tokenizer)" "${plan#error }" ;;
esac
set -- $(echo "$plan" | sed -n 's/^bounds //p')
in_lo=$1
out_hi=$4
echo "INFO $(date '+%m-%d %H:%M:%S') [utils.py:90] Sampling input_len from [$1, $2] and output_len from [$3, $4]"
if [ -z "$S_temperature" ]; then
    echo "WARNING: vllm bench serve no longer sets temperature==0 (greedy) in requests by default. The default will be determined on the server side and can be model/API specific. For the old behavior, include --temperature=0."
fi

# One request of the workload, for real: 0 = answered, else the error the request function records.
payload=$(awk -v m="${model_name:-$model_id}" -v n="$in_lo" -v out="$out_hi" 'BEGIN {
    p = ""; for (i = 0; i < n; i++) p = p (i ? " " : "") "hi"
    printf "{\"model\": \"%s\", \"prompt\": \"%s\", \"repetition_penalty\": 1.0, \"max_tokens\": %d, \"logprobs\": null, \"stream\": true, \"stream_options\": {\"include_usage\": true}, \"ignore_eos\": true}", m, p, out
}')
probe() {
    if http_request POST "$api_url" "$payload" > /dev/null; then
        return 0
    elif [ -n "$HTTP_STATUS" ]; then
        echo "${HTTP_STATUS#* }" > "$work/error"
    else
        connect_error "$api_url" > "$work/error"
    fi
    return 1
}

echo "Starting initial single prompt test run..."
if [ "$A_ready_check_timeout_sec" -gt 0 ]; then
    echo "Waiting for endpoint to become up in $A_ready_check_timeout_sec seconds"
    start=$(cut -d' ' -f1 /proc/uptime)
    until probe; do
        left=$(awk -v s="$start" -v t="$A_ready_check_timeout_sec" '{ printf "%.1f", s + t - $1 }' /proc/uptime)
        echo "WARNING $(date '+%m-%d %H:%M:%S') [ready_checker.py:77] Endpoint is not ready. Error='$(tail -n 1 "$work/error")'"
        if awk -v l="$left" 'BEGIN { exit !(l <= 0) }'; then
            crash benchmark 'raise ValueError(' "ValueError: Initial test run failed - Please make sure benchmark arguments are correctly specified. Error: $(cat "$work/error")"
        fi
        fsleep "$(awk -v l="$left" 'BEGIN { print (l < 5 ? l : 5) }')"
    done
    echo "Initial test run completed."
else
    echo "Skipping endpoint ready check."
fi
if [ "$A_num_warmups" -gt 0 ]; then
    echo "Warming up with $A_num_warmups requests..."
    probe
    echo "Warmup run completed."
fi

echo "Starting main benchmark run..."
echo "Traffic request rate: $A_request_rate"
if [ "$A_burstiness" = 1.0 ]; then
    echo "Burstiness factor: $A_burstiness (Poisson process)"
else
    echo "Burstiness factor: $A_burstiness (Gamma distribution)"
fi
echo "Maximum request concurrency: ${A_max_concurrency:-None}"

n=$A_num_prompts
progress 0 "$n" 0
failed=
if ! probe; then
    failed=1
elif [ -n "$FAIL_CONCURRENCY" ] && [ "$FAIL_CONCURRENCY" = "$A_max_concurrency" ]; then
    failed=1
    echo "Internal Server Error" > "$work/error"
fi
if [ -n "$failed" ]; then
    fsleep 0.1
    progress "$n" "$n" 0.1
    echo >&2
else
    run_for_bench_seconds "$n"
fi

out=
if [ "$A_save_result" = True ] || [ "$A_append_result" = True ]; then
    if [ -n "$A_result_filename" ]; then
        out=$A_result_filename
    else
        out="${A_label:-$A_backend}-${A_request_rate}qps${A_max_concurrency:+-concurrency$A_max_concurrency}-${model_id##*/}-$(date +%Y%m%d-%H%M%S).json"
    fi
    if [ -n "$A_result_dir" ]; then
        mkdir -p "$A_result_dir"
        out=$A_result_dir/$out
    fi
fi
if [ -n "$failed" ]; then
    echo "$PY/vllm/benchmarks/serve.py:1132: UserWarning: All requests failed. This is likely due to a misconfiguration on the benchmark arguments." >&2
    echo "  metrics, actual_output_lens = calculate_metrics(" >&2
fi
awk -v tool=vllm -v mode=run -v failed="$failed" -v errors="$work/error" -v out="$out" \
    -v append="$([ "$A_append_result" = True ] && echo 1)" -v date="$(date +%Y%m%d-%H%M%S)" \
    -v model_id="$model_id" -v tokenizer_id="$tokenizer_id" -f "$STANDIN_LIB/bench.awk" "$work/values"
