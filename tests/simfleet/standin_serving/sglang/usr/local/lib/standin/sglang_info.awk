# SGLang's server arguments after start-up: the `server_args=ServerArgs(...)` log line (what=repr) or the
# /server_info JSON (what=json), from the argument table and the parsed command line.
#
#   awk -F'\t' -v what=repr|json -v tokenizer_path=... -v served_model_name=... -v random_seed=N
#       -v mem_fraction_static=F -v max_total=N -v max_req_input=N -v running=N
#       -f sglang_info.awk sglang_server_args.tsv VALUES
function jstr(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/"/, "\\\"", s)
    return "\"" s "\""
}
function pystr(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/'/, "\\'", s)
    return "'" s "'"
}
function json_to_py(j,    out, i, c, instr) {
    if (j == "null") return "None"
    if (j == "true") return "True"
    if (j == "false") return "False"
    out = ""; instr = 0
    for (i = 1; i <= length(j); i++) {
        c = substr(j, i, 1)
        if (c == "\"") { out = out "'"; instr = !instr; continue }
        if (!instr && substr(j, i, 4) == "null") { out = out "None"; i += 3; continue }
        if (!instr && substr(j, i, 4) == "true") { out = out "True"; i += 3; continue }
        if (!instr && substr(j, i, 5) == "false") { out = out "False"; i += 4; continue }
        out = out c
    }
    return out
}
# JSON of a value given on the command line.
function json_of(kind, raw) {
    if (kind == "bool") return raw == "True" ? "true" : "false"
    if (kind == "int") return raw
    if (kind == "float") return raw == "inf" ? "Infinity" : raw
    return jstr(raw)
}
function py_of(kind, raw) {
    if (kind == "str") return pystr(raw)
    return raw
}
FNR == NR {
    if ($0 ~ /^#/) next
    if ($1 == "arg") { ORDER[++n] = $2; KIND[$2] = $4; JSON[$2] = $5 }
    else if ($1 == "state") { STATE[++ns] = $2; JSON["state:" $2] = $5 }
    else if ($1 == "top") { TOP[++nt] = $2; JSON["top:" $2] = $5 }
    next
}
$3 == 1 { JSON[$1] = json_of($2, $5); PY[$1] = py_of($2, $5) }
END {
    RESOLVED["tokenizer_path"] = tokenizer_path
    RESOLVED["served_model_name"] = served_model_name
    for (k in RESOLVED) if (!(k in PY)) { JSON[k] = jstr(RESOLVED[k]); PY[k] = pystr(RESOLVED[k]) }
    if (!("random_seed" in PY)) { JSON["random_seed"] = random_seed; PY["random_seed"] = random_seed }
    if (!("mem_fraction_static" in PY)) { JSON["mem_fraction_static"] = mem_fraction_static; PY["mem_fraction_static"] = mem_fraction_static }
    for (i = 1; i <= n; i++) {
        k = ORDER[i]
        if (!(k in PY)) PY[k] = json_to_py(JSON[k])
        args_json = args_json (i > 1 ? ", " : "") jstr(k) ": " JSON[k]
        args_repr = args_repr (i > 1 ? ", " : "") k "=" PY[k]
    }
    if (what == "repr") { print "server_args=ServerArgs(" args_repr ")"; exit }
    # internal_states[0]: the scheduler's copy of the arguments (two resolved differently) and its own state
    state = ""
    for (i = 1; i <= n; i++) {
        k = ORDER[i]
        value = JSON[k]
        if (k == "disable_chunked_prefix_cache") value = "true"
        if (k == "pp_max_micro_batch_size" && value == "null") value = running
        state = state (i > 1 ? ", " : "") jstr(k) ": " value
    }
    for (i = 1; i <= ns; i++) {
        k = STATE[i]
        value = JSON["state:" k]
        if (k == "memory_usage") sub(/"token_capacity": [0-9]+/, "\"token_capacity\": " max_total, value)
        if (k == "effective_max_running_requests_per_dp") value = running
        state = state ", " jstr(k) ": " value
    }
    top = ""
    for (i = 1; i <= nt; i++) {
        k = TOP[i]
        value = JSON["top:" k]
        if (k == "max_total_num_tokens") value = max_total
        if (k == "max_req_input_len") value = max_req_input
        top = top ", " jstr(k) ": " value
        if (k == "max_req_input_len") top = top ", \"internal_states\": [{" state "}]"
    }
    print "{" args_json top "}"
}
