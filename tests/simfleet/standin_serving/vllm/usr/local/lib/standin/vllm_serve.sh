#!/bin/sh
# Stand-in for `vllm serve` of vLLM 0.33 (no GPU, no download): its flags, vLLM-like logs, then the
# OpenAI-compatible HTTP server once the "model" is loaded. See tests/simfleet/standin_serving/README.md.
. /usr/local/lib/standin/serving.sh
load_knobs

VERSION=0.33.0
PID=$$
ENGINE_PID=$((PID + 209))
MODEL= POSITIONAL= MODEL_FLAG= TP=1 HOST= PORT=8000 SERVED= MAX_LEN= GPU_UTIL=0.9 TRUST=False
NON_DEFAULT=

ts() { date '+%m-%d %H:%M:%S'; }
# log PROCESS LEVEL FILE:LINE MESSAGE: vLLM's format, prefixed by the process that logs.
log() { printf '(%s) %s %s [%s] %s\n' "$1" "$2" "$(ts)" "$3" "$4"; }
api() { log "APIServer pid=$PID" INFO "$1" "$2"; }
core() { log "EngineCore_DP0 pid=$ENGINE_PID" INFO "$1" "$2"; }
worker() {   # RANK FILE:LINE MESSAGE
    if [ "$TP" -gt 1 ]; then
        log "Worker_TP$1 pid=$((ENGINE_PID + 1 + $1))" INFO "$2" "$3"
    elif [ "$1" = 0 ]; then
        core "$2" "$3"
    fi
}
# traceback PROCESS: stdin as a Python traceback on stderr, each line prefixed like vLLM's other output.
traceback() {
    while IFS= read -r line; do printf '(%s) %s\n' "$1" "$line"; done >&2
}
argparse_error() {
    echo "usage: vllm serve [model_tag] [options]" >&2
    echo "vllm serve: error: $1" >&2
    exit 2
}
add_arg() { NON_DEFAULT="$NON_DEFAULT${NON_DEFAULT:+, }'$1': $2"; }

while [ $# -gt 0 ]; do
    arg=$1
    shift
    case $arg in
    --*=*) value=${arg#*=}; arg=${arg%%=*}; has_value=1 ;;
    *) value=; has_value= ;;
    esac
    case $arg in
    -h | --help)
        echo "usage: vllm serve [model_tag] [options]"
        exit 0 ;;
    --trust-remote-code)
        TRUST=True
        add_arg trust_remote_code True
        continue ;;
    --served-model-name)
        SERVED=$value
        while [ -z "$has_value" ] && [ $# -gt 0 ]; do
            case $1 in -*) break ;; esac
            SERVED="$SERVED${SERVED:+ }$1"
            shift
        done
        [ -z "$SERVED" ] && argparse_error "argument --served-model-name: expected at least one argument"
        continue ;;
    --enforce-eager | --disable-log-requests | --enable-log-requests | --disable-log-stats | \
    --enable-prefix-caching | --no-enable-prefix-caching | --enable-chunked-prefill | --no-enable-chunked-prefill | \
    --enable-auto-tool-choice | --disable-custom-all-reduce | --enable-expert-parallel | --async-scheduling | \
    --skip-tokenizer-init | --disable-frontend-multiprocessing | --enable-sleep-mode | --headless)
        continue ;;
    -*) ;;
    *)
        # a word no flag took: the model (argparse takes the positional anywhere); further ones are ignored
        [ -z "$POSITIONAL" ] && POSITIONAL=$arg
        continue ;;
    esac
    if [ -z "$has_value" ]; then
        case $1 in
        -*) value= ;;
        *) if [ $# -gt 0 ]; then value=$1; shift; fi ;;
        esac
    fi
    case $arg in
    --model) MODEL_FLAG=$value ;;
    --tensor-parallel-size | -tp)
        case $value in '' | *[!0-9]*) argparse_error "argument --tensor-parallel-size/-tp: invalid int value: '$value'" ;; esac
        TP=$value
        add_arg tensor_parallel_size "$value" ;;
    --host) HOST=$value; add_arg host "'$value'" ;;
    --port)
        case $value in '' | *[!0-9]*) argparse_error "argument --port: invalid int value: '$value'" ;; esac
        PORT=$value
        add_arg port "$value" ;;
    --max-model-len)
        case $value in '' | *[!0-9kKmM]*) argparse_error "argument --max-model-len: invalid human_readable_int value: '$value'" ;; esac
        MAX_LEN=$(echo "$value" | awk '{   # human_readable_int: k/m decimal, K/M binary
            n = $0 + 0; u = substr($0, length($0))
            printf "%d", n * (u == "k" ? 1000 : u == "K" ? 1024 : u == "m" ? 1000000 : u == "M" ? 1048576 : 1) }')
        add_arg max_model_len "$MAX_LEN" ;;
    --gpu-memory-utilization) GPU_UTIL=$value; add_arg gpu_memory_utilization "$value" ;;
    *) ;;   # real flags the stand-in does not model, and unknown flags: ignored
    esac
done

MODEL=${POSITIONAL:-${MODEL_FLAG:-Qwen/Qwen3-0.6B}}
SERVED=${SERVED:-$MODEL}
[ -n "$POSITIONAL" ] && NON_DEFAULT="'model_tag': '$POSITIONAL'${NON_DEFAULT:+, }$NON_DEFAULT"
[ -n "$SERVED" ] && [ "$SERVED" != "$MODEL" ] && add_arg served_model_name "$(echo "$SERVED" | awk '{
    s = "["; for (i = 1; i <= NF; i++) s = s (i > 1 ? ", " : "") "'"'"'" $i "'"'"'"; print s "]" }')"
add_arg model "'$MODEL'"
LISTEN=${HOST:-0.0.0.0}
MAX_LEN=${MAX_LEN:-8192}

shutdown() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    api launcher.py:80 "Shutting down FastAPI HTTP server."
    printf '(APIServer pid=%s) INFO:     Shutting down\n' "$PID"
    printf '(APIServer pid=%s) INFO:     Waiting for application shutdown.\n' "$PID"
    printf '(APIServer pid=%s) INFO:     Application shutdown complete.\n' "$PID"
    exit 0
}
trap shutdown TERM INT

api api_server.py:1896 "vLLM server version $VERSION, serving model $MODEL"
if [ -n "$MODEL_FLAG" ]; then
    log "APIServer pid=$PID" WARNING argparse_utils.py:196 "With \`vllm serve\`, you should provide the model as a positional argument or in a config file instead of via the \`--model\` option. The \`--model\` option will be removed in a future version."
fi
api utils.py:328 "non-default args: {$NON_DEFAULT}"

# The API server binds its socket before the engine starts (and listens only once the engine is up).
if port_in_use "$PORT"; then
    traceback "APIServer pid=$PID" <<EOF
Traceback (most recent call last):
  File "/usr/local/bin/vllm", line 10, in <module>
    sys.exit(main())
             ^^^^^^
  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/cli/main.py", line 73, in main
    args.dispatch_function(args)
  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/cli/serve.py", line 111, in cmd
    uvloop.run(run_server(args))
  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", line 1883, in run_server
    listen_address, sock = setup_server(args)
                           ^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", line 1847, in setup_server
    sock = create_server_socket(sock_addr)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", line 1806, in create_server_socket
    sock.bind(addr)
OSError: [Errno 98] Address already in use
EOF
    exit 1
fi

if token_refused; then
    fsleep "$(phase 0.05)"
    {
        cat <<EOF
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/dist-packages/huggingface_hub/utils/_http.py", line 402, in hf_raise_for_status
    response.raise_for_status()
  File "/usr/local/lib/python3.12/dist-packages/requests/models.py", line 1026, in raise_for_status
    raise HTTPError(http_error_msg, response=self)
requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://huggingface.co/$MODEL/resolve/main/config.json

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/usr/local/lib/python3.12/dist-packages/transformers/utils/hub.py", line 479, in cached_files
    hf_hub_download(
  File "/usr/local/lib/python3.12/dist-packages/huggingface_hub/file_download.py", line 1010, in hf_hub_download
    return _hf_hub_download_to_cache_dir(
EOF
        gated_repo_error "$MODEL" config.json
        cat <<EOF

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/usr/local/bin/vllm", line 10, in <module>
    sys.exit(main())
  File "/usr/local/lib/python3.12/dist-packages/vllm/transformers_utils/config.py", line 612, in get_config
    config_dict, _ = PretrainedConfig.get_config_dict(
  File "/usr/local/lib/python3.12/dist-packages/transformers/utils/hub.py", line 543, in cached_files
    raise OSError(
OSError: You are trying to access a gated repo.
Make sure to have access to it at https://huggingface.co/$MODEL.
EOF
        gated_repo_error "$MODEL" config.json | sed 's/^huggingface_hub.errors.GatedRepoError: //'
    } | traceback "APIServer pid=$PID"
    exit 1
fi

api model.py:547 "Resolved architecture: LlamaForCausalLM"
api model.py:1510 "Using max model len $MAX_LEN"
api scheduler.py:205 "Chunked prefill is enabled with max_num_batched_tokens=8192."
fsleep "$(phase 0.1)"
core core.py:77 "Initializing a V1 LLM engine (v$VERSION) with config: model='$MODEL', speculative_config=None, tokenizer='$MODEL', skip_tokenizer_init=False, tokenizer_mode=auto, revision=None, trust_remote_code=$TRUST, dtype=torch.bfloat16, max_seq_len=$MAX_LEN, download_dir=None, load_format=auto, tensor_parallel_size=$TP, pipeline_parallel_size=1, data_parallel_size=1, disable_custom_all_reduce=False, quantization=None, enforce_eager=False, kv_cache_dtype=auto, device_config=cuda, seed=0, served_model_name=$(echo "$SERVED" | cut -d' ' -f1), enable_prefix_caching=True, enable_chunked_prefill=True"
rank=0
while [ "$rank" -lt "$TP" ]; do
    worker "$rank" gpu_model_runner.py:2338 "Starting to load model $MODEL..."
    rank=$((rank + 1))
done
write_weights "$MODEL"
fsleep "$(phase 0.5)"

if [ -n "$FAIL_AT_START" ]; then
    case $FAIL_AT_START in
    1 | yes | oom)
        error="torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.96 GiB. GPU 0 has a total capacity of 79.19 GiB of which 1.12 GiB is free. Including non-PyTorch memory, this process has 78.05 GiB memory in use. Of the allocated memory 76.88 GiB is allocated by PyTorch, and 412.35 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)" ;;
    *) error=$FAIL_AT_START ;;
    esac
    for line in "EngineCore failed to start." \
        "Traceback (most recent call last):" \
        '  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py", line 770, in run_engine_core' \
        "    engine_core = EngineCoreProc(*args, **kwargs)" \
        '  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_model_runner.py", line 2345, in load_model' \
        "    self.model = model_loader.load_model(" \
        '  File "/usr/local/lib/python3.12/dist-packages/torch/nn/modules/module.py", line 1355, in convert' \
        "    return t.to(" \
        "           ^^^^^" \
        "$error"; do
        log "EngineCore_DP0 pid=$ENGINE_PID" ERROR core.py:779 "$line"
    done
    traceback "APIServer pid=$PID" <<EOF
Traceback (most recent call last):
  File "/usr/local/bin/vllm", line 10, in <module>
    sys.exit(main())
  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", line 1920, in run_server_worker
    async with build_async_engine_client(
  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/utils.py", line 921, in wait_for_engine_startup
    raise RuntimeError(
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
EOF
    exit 1
fi

load_s=$(phase 0.5)
rank=0
while [ "$rank" -lt "$TP" ]; do
    worker "$rank" default_loader.py:267 "Loading weights took $load_s seconds"
    rank=$((rank + 1))
done
worker 0 gpu_model_runner.py:2392 "Model loading took $(awk -v tp="$TP" 'BEGIN { printf "%.4f", 131.5 / tp }') GiB and $(phase 0.52) seconds"
fsleep "$(phase 0.2)"
kv_tokens=$(awk -v tp="$TP" -v u="$GPU_UTIL" 'BEGIN { printf "%d", 200000 * tp * u / 0.9 }')
commas() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
core kv_cache_utils.py:1087 "GPU KV cache size: $(commas "$kv_tokens") tokens"
core kv_cache_utils.py:1091 "Maximum concurrency for $(commas "$MAX_LEN") tokens per request: $(awk -v k="$kv_tokens" -v l="$MAX_LEN" 'BEGIN { printf "%.2f", k / l }')x"
fsleep "$(phase 0.2)"
worker 0 gpu_model_runner.py:3118 "Graph capturing finished in $(awk -v t="$STARTUP_SECONDS" 'BEGIN { printf "%d", t * 0.2 + 0.5 }') secs, took 0.52 GiB"
core core.py:218 "init engine (profile, create kv cache, warmup model) took $(phase 0.4) seconds"

mkdir -p "$STANDIN_STATE"
echo vllm > "$STANDIN_STATE/engine"
echo "$SERVED" | tr ' ' '\n' > "$STANDIN_STATE/served_names"
created=$(date +%s)
awk -v model="$MODEL" -v created="$created" -v len="$MAX_LEN" '{
    printf "%s{\"id\":\"%s\",\"object\":\"model\",\"created\":%s,\"owned_by\":\"vllm\",\"root\":\"%s\",\"parent\":null,\"max_model_len\":%s,\"permission\":[{\"id\":\"modelperm-standin%d\",\"object\":\"model_permission\",\"created\":%s,\"allow_create_engine\":false,\"allow_sampling\":true,\"allow_logprobs\":true,\"allow_search_indices\":false,\"allow_view\":true,\"allow_fine_tuning\":false,\"organization\":\"*\",\"group\":null,\"is_blocking\":false}]}", (NR > 1 ? "," : "{\"object\":\"list\",\"data\":["), $0, created, model, len, NR, created
} END { print "]}" }' "$STANDIN_STATE/served_names" > "$STANDIN_STATE/models.json"

# busybox nc binds the address given before -e (everything after -e is the program's command line)
nc -ll -p "$PORT" "$LISTEN" -e "$STANDIN_LIB/serving_http.sh" 3>&2 2>/dev/null &
server_pid=$!
fsleep 0.1
if ! kill -0 "$server_pid" 2>/dev/null; then
    printf '%s\n' "Traceback (most recent call last):" \
        '  File "/usr/local/lib/python3.12/dist-packages/vllm/entrypoints/openai/api_server.py", line 1806, in create_server_socket' \
        "    sock.bind(addr)" "OSError: [Errno 98] Address already in use" | traceback "APIServer pid=$PID"
    exit 1
fi
api api_server.py:1634 "Supported_tasks: ['generate']"
api api_server.py:1912 "Starting vLLM server on http://$LISTEN:$PORT"
api launcher.py:34 "Available routes are:"
for route in "/health, Methods: GET" "/v1/models, Methods: GET" "/version, Methods: GET" \
    "/v1/completions, Methods: POST"; do
    api launcher.py:42 "Route: $route"
done
printf '(APIServer pid=%s) INFO:     Started server process [%s]\n' "$PID" "$PID"
printf '(APIServer pid=%s) INFO:     Waiting for application startup.\n' "$PID"
printf '(APIServer pid=%s) INFO:     Application startup complete.\n' "$PID"
while kill -0 "$server_pid" 2>/dev/null; do
    wait "$server_pid"
done
exit 1
