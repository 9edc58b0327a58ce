#!/bin/sh
# Stand-in for `python3 -m sglang.launch_server` of SGLang 0.5.14 (no GPU, no download): its arguments, SGLang-like
# logs, the HTTP server once the "model" is loaded, /health 503 until its warm-up is done.
# See tests/simfleet/standin_serving/README.md.
. /usr/local/lib/standin/serving.sh
load_knobs

VERSION=0.5.14
SRC=/sgl-workspace/sglang/python/sglang
work=$(mktemp -d)
: > "$work/args"
[ $# -gt 0 ] && printf '%s\n' "$@" > "$work/args"
spec=$STANDIN_LIB/sglang_server_args.tsv

ARGERR= HELP=
eval "$(awk -v layout=server -v prefix=1 -v required=model_path -v out="$work/values" -f "$STANDIN_LIB/args.awk" \
    "$spec" "$work/args")"
if [ -n "$HELP" ]; then
    echo "usage: launch_server.py [-h] --model-path MODEL_PATH [options]"
    exit 0
fi
if [ -n "$ARGERR" ]; then
    echo "usage: launch_server.py [-h] --model-path MODEL_PATH [options]" >&2
    echo "launch_server.py: error: $ARGERR" >&2
    exit 2
fi

MODEL=$A_model_path
SERVED=${A_served_model_name:-$MODEL}
TP=$A_tp_size
HOST=$A_host
PORT=$A_port
MEM=${A_mem_fraction_static:-0.88}
CTX=${A_context_length:-8192}
SEED=${A_random_seed:-$(($(date +%s) % 1000000000))}
MAX_TOTAL=$(awk -v tp="$TP" -v m="$MEM" 'BEGIN { printf "%d", 11716 * tp * m }')
RUNNING=$((MAX_TOTAL / 8))

ts() { date '+%Y-%m-%d %H:%M:%S'; }
log() { echo "[$(ts)] $*" >&2; }
ranks() {   # MESSAGE: logged by every tensor-parallel rank's scheduler
    rank=0
    while [ "$rank" -lt "$TP" ]; do
        echo "[$(ts) TP$rank] $*" >&2
        rank=$((rank + 1))
    done
}
crash_in_main() {   # EXCEPTION LINES... on stderr, the way an exception in launch_server ends the process
    {
        echo "Traceback (most recent call last):"
        echo '  File "<frozen runpy>", line 198, in _run_module_as_main'
        echo '  File "<frozen runpy>", line 88, in _run_code'
        echo "  File \"$SRC/launch_server.py\", line 29, in <module>"
        echo "    server_args = prepare_server_args(sys.argv[1:])"
        echo "                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
        printf '%s\n' "$@"
    } >&2
}

shutdown() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    log "INFO:     Shutting down"
    log "INFO:     Waiting for application shutdown."
    log "INFO:     Application shutdown complete."
    log "INFO:     Finished server process [$$]"
    exit 0
}
trap shutdown TERM INT

if token_refused; then
    fsleep "$(phase 0.05)"
    {
        echo "Traceback (most recent call last):"
        echo '  File "/usr/local/lib/python3.12/dist-packages/transformers/utils/hub.py", line 479, in cached_files'
        echo "    hf_hub_download("
        echo '  File "/usr/local/lib/python3.12/dist-packages/huggingface_hub/file_download.py", line 1010, in hf_hub_download'
        echo "    return _hf_hub_download_to_cache_dir("
        gated_repo_error "$MODEL" config.json
        echo ""
        echo "The above exception was the direct cause of the following exception:"
        echo ""
    } >&2
    crash_in_main \
        "  File \"$SRC/srt/server_args.py\", line 712, in __post_init__" \
        "    self._handle_model_specific_adjustments()" \
        "  File \"/usr/local/lib/python3.12/dist-packages/transformers/utils/hub.py\", line 543, in cached_files" \
        "    raise OSError(" \
        "OSError: You are trying to access a gated repo." \
        "Make sure to have access to it at https://huggingface.co/$MODEL." \
        "$(gated_repo_error "$MODEL" config.json | sed 's/^huggingface_hub.errors.GatedRepoError: //')"
    exit 1
fi

info() {   # what: repr | json
    awk -F'\t' -v what="$1" -v tokenizer_path="${A_tokenizer_path:-$MODEL}" -v served_model_name="$SERVED" \
        -v random_seed="$SEED" -v mem_fraction_static="$MEM" -v max_total="$MAX_TOTAL" \
        -v max_req_input=$((CTX - 6)) -v running="$RUNNING" -f "$STANDIN_LIB/sglang_info.awk" "$spec" "$work/values"
}
log "$(info repr)"
log "Using default HuggingFace chat template with detected content format: string"
ranks "Init torch distributed begin."
fsleep "$(phase 0.1)"
ranks "Init torch distributed ends. mem usage=1.05 GB"
ranks "Load weight begin. avail mem=78.45 GB"
write_weights "$MODEL"
fsleep "$(phase 0.4)"

if [ -n "$FAIL_AT_START" ]; then
    case $FAIL_AT_START in
    1 | yes | oom)
        error="torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.96 GiB. GPU 0 has a total capacity of 79.19 GiB of which 1.12 GiB is free. Including non-PyTorch memory, this process has 78.05 GiB memory in use. Of the allocated memory 76.88 GiB is allocated by PyTorch, and 412.35 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)" ;;
    *) error=$FAIL_AT_START ;;
    esac
    {
        echo "[$(ts) TP0] Scheduler hit an exception: Traceback (most recent call last):"
        echo "  File \"$SRC/srt/managers/scheduler.py\", line 3060, in run_scheduler_process"
        echo "    scheduler = Scheduler("
        echo "                ^^^^^^^^^^"
        echo "  File \"$SRC/srt/managers/scheduler.py\", line 338, in __init__"
        echo "    self.tp_worker = TpModelWorker("
        echo "  File \"$SRC/srt/model_executor/model_runner.py\", line 812, in load_model"
        echo "    self.model = get_model("
        echo "  File \"/usr/local/lib/python3.12/dist-packages/torch/nn/modules/module.py\", line 1355, in convert"
        echo "    return t.to("
        echo "           ^^^^^"
        echo "$error"
        echo ""
    } >&2
    log "Received sigquit from a child process. It usually means the child failed."
    exit 1
fi

ranks "Load weight end. type=LlamaForCausalLM, dtype=torch.bfloat16, avail mem=12.60 GB, mem usage=65.85 GB."
kv_gb=$(awk -v t="$MAX_TOTAL" 'BEGIN { printf "%.2f", t * 0.000076 }')
ranks "KV Cache is allocated. #tokens: $MAX_TOTAL, K size: $kv_gb GB, V size: $kv_gb GB"
ranks "Memory pool end. avail mem=8.01 GB"
fsleep "$(phase 0.05)"
ranks "Capture cuda graph begin. This can take up to several minutes. avail mem=7.80 GB"
fsleep "$(phase 0.05)"
ranks "Capture cuda graph end. Time elapsed: $(phase 0.05) s. mem usage=1.18 GB. avail mem=6.62 GB."
echo "[$(ts) TP0] max_total_num_tokens=$MAX_TOTAL, chunked_prefill_size=8192, max_prefill_tokens=16384, max_running_requests=$RUNNING, context_len=$CTX, available_gpu_mem=6.62 GB" >&2

if port_in_use "$PORT"; then
    log "ERROR:    [Errno 98] error while attempting to bind on address ('$HOST', $PORT): address already in use"
    exit 1
fi
mkdir -p "$STANDIN_STATE"
rm -f "$STANDIN_STATE/ready"
echo sglang > "$STANDIN_STATE/engine"
info json > "$STANDIN_STATE/server_info.json"
created=$(date +%s)
echo "{\"object\":\"list\",\"data\":[{\"id\":\"$SERVED\",\"object\":\"model\",\"created\":$created,\"owned_by\":\"sglang\",\"root\":\"$SERVED\",\"max_model_len\":$CTX}]}" \
    > "$STANDIN_STATE/models.json"
echo "{\"model_path\":\"$MODEL\",\"tokenizer_path\":\"${A_tokenizer_path:-$MODEL}\",\"is_generation\":true,\"preferred_sampling_params\":null,\"weight_version\":\"default\",\"has_image_understanding\":false,\"has_audio_understanding\":false,\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"]}" \
    > "$STANDIN_STATE/model_info.json"
rm -rf "$work"

# busybox nc binds the address given before -e (everything after -e is the program's command line)
nc -ll -p "$PORT" "$HOST" -e "$STANDIN_LIB/serving_http.sh" 3>&2 2>/dev/null &
server_pid=$!
fsleep 0.1
if ! kill -0 "$server_pid" 2>/dev/null; then
    log "ERROR:    [Errno 98] error while attempting to bind on address ('$HOST', $PORT): address already in use"
    exit 1
fi
log "INFO:     Started server process [$$]"
log "INFO:     Waiting for application startup."
log "INFO:     Application startup complete."
log "INFO:     Uvicorn running on http://$HOST:$PORT (Press CTRL+C to quit)"
fsleep "$(phase 0.4)"
echo "[$(ts) TP0] Prefill batch, #new-seq: 1, #new-token: 7, #cached-token: 0, token usage: 0.00, #running-req: 0, #queue-req: 0, " >&2
log "INFO:     127.0.0.1:45834 - \"POST /generate HTTP/1.1\" 200 OK"
: > "$STANDIN_STATE/ready"
log "The server is fired up and ready to roll!"
while kill -0 "$server_pid" 2>/dev/null; do
    wait "$server_pid"
done
exit 1
