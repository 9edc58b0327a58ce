#!/bin/sh
# One HTTP/1.1 exchange on stdin/stdout (run by `nc -ll -e` per connection):
# the few routes of TGI's router that a collector uses.
STATE=/tmp/standin
cr=$(printf '\r')

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
if [ "${length:-0}" -gt 0 ] 2>/dev/null; then
    head -c "$length" > /dev/null
fi

respond() {   # STATUS CONTENT_TYPE BODY
    printf 'HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s' \
        "$1" "$2" "${#3}" "$3"
}

path=${target%%\?*}
case "$method $path" in
"GET /health")
    respond "200 OK" "text/plain" "" ;;
"GET /info")
    respond "200 OK" "application/json" "$(cat "$STATE/info.json")" ;;
"GET /metrics")
    respond "200 OK" "text/plain; version=0.0.4" "# TYPE tgi_request_count counter
tgi_request_count 0
" ;;
"POST /generate")
    respond "200 OK" "application/json" '{"generated_text":" Lorem ipsum dolor sit amet"}' ;;
*)
    respond "404 Not Found" "application/json" '{"error":"Not Found","error_type":"not_found"}' ;;
esac
