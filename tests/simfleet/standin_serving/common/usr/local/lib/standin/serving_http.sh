#!/bin/sh
# One HTTP/1.1 exchange on stdin/stdout (run by `nc -ll -e` per connection): the routes of vLLM's or SGLang's
# server that a collector and the benchmarks use. The launcher wrote what to answer under /tmp/standin, and
# passes its stderr as file descriptor 3 (the server's log).
STATE=/tmp/standin
cr=$(printf '\r')
engine=$(cat "$STATE/engine")

read -r method target version
target=${target%"$cr"}
length=0
while IFS= read -r line; do
    line=${line%"$cr"}
    [ -z "$line" ] && break
    case $line in
    [Cc]ontent-[Ll]ength:*) length=${line#*:}; length=${length# } ;;
    esac
done
body=
if [ "${length:-0}" -gt 0 ] 2>/dev/null; then
    body=$(head -c "$length")
fi

respond() {   # STATUS CONTENT_TYPE BODY
    printf 'HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s' \
        "$1" "$2" "${#3}" "$3"
}

json_field() {   # NAME: a string or number value of the request body (flat JSON as the benchmarks send it)
    printf '%s' "$body" | awk -v name="$1" '{
        key = "\"" name "\""
        i = index($0, key)
        if (!i) exit
        rest = substr($0, i + length(key))
        sub(/^[ \t]*:[ \t]*/, "", rest)
        if (substr(rest, 1, 1) == "\"") { rest = substr(rest, 2); sub(/".*/, "", rest) }
        else { match(rest, /^[^],} ]*/); rest = substr(rest, 1, RLENGTH) }
        print rest
        exit
    }'
}

# completion KIND MODEL PROMPT_TOKENS MAX_TOKENS STREAM: an OpenAI completion (KIND openai) or SGLang's
# /generate answer (KIND sglang), streamed as server-sent events when STREAM is true.
completion() {
    awk -v kind="$1" -v model="$2" -v prompt="$3" -v n="$4" -v stream="$5" -v now="$(date +%s)" 'BEGIN {
        text = ""
        for (i = 0; i < n; i++) text = text " lorem"
        usage = sprintf("{\"prompt_tokens\":%d,\"total_tokens\":%d,\"completion_tokens\":%d}", prompt, prompt + n, n)
        if (kind == "sglang") {
            meta = sprintf("\"meta_info\":{\"id\":\"standin-%s\",\"finish_reason\":{\"type\":\"length\",\"length\":%d},\"prompt_tokens\":%d,\"weight_version\":\"default\",\"completion_tokens\":%d,\"cached_tokens\":0}", now, n, prompt, n)
            if (stream == "true") printf "data: {\"text\":\"%s\",%s}\n\ndata: [DONE]\n\n", text, meta
            else printf "{\"text\":\"%s\",%s}", text, meta
            exit
        }
        head = sprintf("{\"id\":\"cmpl-standin%s\",\"object\":\"text_completion\",\"created\":%s,\"model\":\"%s\",", now, now, model)
        if (stream == "true") {
            printf "data: %s\"choices\":[{\"index\":0,\"text\":\"%s\",\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null}],\"usage\":null}\n\n", head, text
            printf "data: %s\"choices\":[],\"usage\":%s}\n\ndata: [DONE]\n\n", head, usage
        } else
            printf "%s\"choices\":[{\"index\":0,\"text\":\"%s\",\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null,\"prompt_logprobs\":null}],\"usage\":%s}", head, text, usage
    }'
}

prompt_words() { json_field "$1" | wc -w; }

not_found='{"detail":"Not Found"}'
path=${target%%\?*}

if [ "$engine" = vllm ]; then
    case "$method $path" in
    "GET /health") respond "200 OK" "application/json" "" ;;
    "GET /v1/models") respond "200 OK" "application/json" "$(cat "$STATE/models.json")" ;;
    "GET /version") respond "200 OK" "application/json" '{"version":"0.33.0"}' ;;
    "POST /v1/completions")
        model=$(json_field model)
        if ! grep -qxF -- "$model" "$STATE/served_names"; then
            respond "404 Not Found" "application/json" \
                "{\"error\":{\"message\":\"The model \`$model\` does not exist.\",\"type\":\"NotFoundError\",\"param\":\"model\",\"code\":404}}"
        else
            stream=$(json_field stream)
            type=application/json
            [ "$stream" = true ] && type="text/event-stream; charset=utf-8"
            respond "200 OK" "$type" "$(completion openai "$model" $(($(prompt_words prompt) + 1)) \
                "$(json_field max_tokens | grep -E '^[0-9]+$' || echo 16)" "$stream")"
        fi ;;
    "POST /health" | "POST /v1/models" | "POST /version" | "GET /v1/completions")
        respond "405 Method Not Allowed" "application/json" '{"detail":"Method Not Allowed"}' ;;
    *) respond "404 Not Found" "application/json" "$not_found" ;;
    esac
    exit 0
fi

# SGLang
case "$method $path" in
"GET /health" | "GET /health_generate")
    if [ -f "$STATE/ready" ]; then
        respond "200 OK" "text/plain; charset=utf-8" ""
    else
        respond "503 Service Unavailable" "text/plain; charset=utf-8" ""
    fi ;;
"GET /v1/models") respond "200 OK" "application/json" "$(cat "$STATE/models.json")" ;;
"GET /get_server_info")
    printf '[%s] Endpoint '\''/get_server_info'\'' is deprecated and will be removed in a future version. Please use '\''/server_info'\'' instead.\n' \
        "$(date '+%Y-%m-%d %H:%M:%S')" >&3   # the launcher's stderr
    respond "200 OK" "application/json" "$(cat "$STATE/server_info.json")" ;;
"GET /server_info") respond "200 OK" "application/json" "$(cat "$STATE/server_info.json")" ;;
"GET /model_info") respond "200 OK" "application/json" "$(cat "$STATE/model_info.json")" ;;
"POST /generate")
    stream=$(json_field stream)
    type=application/json
    [ "$stream" = true ] && type="text/event-stream; charset=utf-8"
    respond "200 OK" "$type" "$(completion sglang "" "$(prompt_words text)" \
        "$(json_field max_new_tokens | grep -E '^[0-9]+$' || echo 128)" "$stream")" ;;
"POST /v1/completions")
    stream=$(json_field stream)
    type=application/json
    [ "$stream" = true ] && type="text/event-stream; charset=utf-8"
    respond "200 OK" "$type" "$(completion openai "$(json_field model)" "$(prompt_words prompt)" \
        "$(json_field max_tokens | grep -E '^[0-9]+$' || echo 16)" "$stream")" ;;
*) respond "404 Not Found" "application/json" "$not_found" ;;
esac
