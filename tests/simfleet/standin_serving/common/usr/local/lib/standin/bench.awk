# The numbers of one benchmark point, from the formulas in tests/simfleet/standin_serving/README.md ("Numbers"),
# and how each tool prints and saves them (busybox awk: no math library, no asort).
#
#   awk -v tool=vllm|sglang -v mode=plan|run [-v failed=1 -v errors=FILE] [-v out=FILE] [-v date=...]
#       [-v model_id=... -v tokenizer_id=...] [-v server_info=FILE] -f bench.awk VALUES
#
# VALUES: the parsed arguments (args.awk). mode=plan prints the sampled length bounds and planned totals
# ("bounds in_lo in_hi out_lo out_hi", "totals INPUT OUTPUT", or "error EXCEPTION: MESSAGE"); mode=run prints what the
# tool prints after its progress bar and writes (vLLM) or appends (SGLang) the result JSON to `out`.

function floor(x) { return (x == int(x) || x >= 0) ? int(x) : int(x) - 1 }
function ceil(x) { return (x == int(x)) ? x : floor(x) + 1 }
function min(a, b) { return a < b ? a : b }
function max(a, b) { return a > b ? a : b }

function square_root(x,    g, i) {
    if (x <= 0) return 0
    g = x > 1 ? x : 1
    for (i = 0; i < 200; i++) g = (g + x / g) / 2
    return g
}

# Python's repr of a float.
function pyfloat(x,    s, p) {
    if (x == "inf" || x > 1e308) return "inf"
    if (x == int(x) && x < 1e16 && x > -1e16) return sprintf("%.0f", x) ".0"
    for (p = 1; p <= 17; p++) {
        s = sprintf("%." p "g", x)
        if (s + 0 == x) break
    }
    if (s ~ /e/ && (x >= 1e-4 || x <= -1e-4)) s = sprintf("%.17f", x)
    return s
}

function jstr(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/"/, "\\\"", s)
    gsub(/\t/, "\\t", s)
    gsub(/\n/, "\\n", s)
    return "\"" s "\""
}

# Heapsort of A[0..n-1] (values), carrying W (weights) along.
function sift(A, W, start, end,    root, child, t) {
    root = start
    while (2 * root + 1 <= end) {
        child = 2 * root + 1
        if (child + 1 <= end && A[child] < A[child + 1]) child++
        if (A[root] < A[child]) {
            t = A[root]; A[root] = A[child]; A[child] = t
            t = W[root]; W[root] = W[child]; W[child] = t
            root = child
        } else return
    }
}
function heapsort(A, W, n,    start, end, t) {
    for (start = int((n - 2) / 2); start >= 0; start--) sift(A, W, start, n - 1)
    for (end = n - 1; end > 0; end--) {
        t = A[0]; A[0] = A[end]; A[end] = t
        t = W[0]; W[0] = W[end]; W[end] = t
        sift(A, W, 0, end - 1)
    }
}

# Statistics of a weighted list (value A[i] repeated W[i] times), as numpy computes them over the expanded
# list: mean, median, std (population), percentiles with linear interpolation. Empty list: all 0 (np.*(x or 0)).
function stats(name, A, W, n,    i, total, sum, mean, var, k) {
    total = 0; sum = 0
    for (i = 0; i < n; i++) { total += W[i]; sum += A[i] * W[i] }
    COUNT[name] = total
    if (total == 0) { MEAN[name] = 0; STD[name] = 0; MAXV[name] = 0; return }
    mean = sum / total
    var = 0
    for (i = 0; i < n; i++) var += W[i] * (A[i] - mean) * (A[i] - mean)
    heapsort(A, W, n)
    MEAN[name] = mean
    STD[name] = square_root(var / total)
    MAXV[name] = 0
    for (i = 0; i < n; i++) {
        SORTED[name, i] = A[i]; WEIGHT[name, i] = W[i]
        if (W[i] > 0) MAXV[name] = A[i]
    }
    NSORTED[name] = n
}
function at(name, pos,    i, cum) {   # the value at 0-based position pos of the expanded sorted list
    cum = 0
    for (i = 0; i < NSORTED[name]; i++) {
        cum += WEIGHT[name, i]
        if (pos < cum) return SORTED[name, i]
    }
    return SORTED[name, NSORTED[name] - 1]
}
function pct(name, p,    idx, lo, hi) {
    if (COUNT[name] == 0) return 0
    idx = p / 100 * (COUNT[name] - 1)
    lo = floor(idx)
    hi = min(lo + 1, COUNT[name] - 1)
    return at(name, lo) + (at(name, hi) - at(name, lo)) * (idx - lo)
}

function row(label, value) { printf "%-40s %-10s\n", label, value }
function rowf(label, value) { printf "%-40s %-10s\n", label, sprintf("%.2f", value) }
function title(text, fill,    pad, left, right, s, i) {
    pad = 50 - length(text)
    left = int(pad / 2); right = pad - left
    s = ""
    for (i = 0; i < left; i++) s = s fill
    s = s text
    for (i = 0; i < right; i++) s = s fill
    print s
}

function arg(d) { return RAW[d] }

# The workload of each request i: PROMPT[i] (tokens the server counts), GEN[i] (generated tokens).
function workload(    r, r_in, r_out, base, in_lo, in_hi, out_lo, out_hi, i, u, v, j) {
    n = arg("num_prompts") + 0
    c = arg("max_concurrency") + 0
    conc = (c > 0 && c < n) ? c : n
    lin = arg("random_input_len") + 0
    lout = arg("random_output_len") + 0
    seed = arg("seed") + 0
    if (seed < 0) seed = -seed
    if (n <= 0) return "AssertionError: No requests provided."
    r = arg("random_range_ratio")
    if (tool == "vllm") {
        r_in = r_out = r + 0
        if (r ~ /^[ \t]*\{/) {   # >= 0.20: '{"input": r1, "output": r2}'
            j = r; sub(/.*"input"[ \t]*:[ \t]*/, "", j); r_in = j + 0
            j = r; sub(/.*"output"[ \t]*:[ \t]*/, "", j); r_out = j + 0
        }
        if (r_in < 0 || r_in >= 1 || r_out < 0 || r_out >= 1) return "ValueError: random_range_ratio must be in [0, 1)."
        base = lin - 1   # the tokenizer's special token (BOS) is subtracted
        in_lo = floor(base * (1 - r_in)); in_hi = ceil(base * (1 + r_in))
        out_lo = floor(lout * (1 - r_out)); out_hi = ceil(lout * (1 + r_out))
    } else {
        r = r + 0
        in_lo = max(int(lin * r), 1); in_hi = lin
        out_lo = max(int(lout * r), 1); out_hi = lout
    }
    BOUNDS = in_lo " " in_hi " " out_lo " " out_hi
    planned_in = planned_out = 0
    for (i = 0; i < n; i++) {
        u = ((i * 7919 + seed * 104729) % 1000) / 1000
        v = ((i * 6271 + seed * 7907 + 500) % 1000) / 1000
        IN[i] = in_lo + floor(u * (in_hi - in_lo + 1))
        OUT[i] = max(1, out_lo + floor(v * (out_hi - out_lo + 1)))
        PROMPT[i] = IN[i] + (tool == "vllm" ? 1 : 0)   # vLLM >= 0.20 counts the server's prompt_tokens
        GEN[i] = ignore_eos ? OUT[i] : max(1, floor(OUT[i] * (i % 2 ? 3 : 2) / 4))
        planned_in += IN[i]; planned_out += OUT[i]
    }
    return ""
}

function simulate(    i, k1, k2, w, wave_max, waves, prev_wave) {
    tpot_base = 8 + 0.25 * conc + 0.001 * lin
    duration = 0; wave_max = 0; prev_wave = 0
    total_in = total_out = 0; completed = 0; sum_e2e = 0
    nt = ne = ni = 0
    for (i = 0; i < n; i++) {
        w = int(i / conc)
        if (w != prev_wave) { duration += wave_max; wave_max = 0; prev_wave = w }
        QUEUE[i] = duration
        if (failed) { LAT[i] = 0; continue }
        k1 = (7 * i) % 11 - 5
        k2 = (3 * i) % 7 - 3
        ttft = (20 + 0.02 * PROMPT[i] * conc) * (1 + k1 / 100)
        tpot = tpot_base * (1 + k2 / 200)
        e2e = ttft + (GEN[i] - 1) * tpot
        LAT[i] = e2e / 1000
        wave_max = max(wave_max, e2e / 1000)
        TTFT[i] = ttft; TTFT_W[i] = 1
        E2E[i] = e2e; E2E_W[i] = 1
        if (GEN[i] > 1) { TPOT[nt] = tpot; TPOT_W[nt] = 1; nt++ }
        ITL[i] = tpot; ITL_W[i] = GEN[i] - 1
        total_in += PROMPT[i]; total_out += GEN[i]; sum_e2e += e2e / 1000
        completed++
    }
    duration += wave_max
    if (failed) {   # every request fails at once: 50 ms per wave
        waves = ceil(n / conc)
        duration = 0.05 * waves
        for (i = 0; i < n; i++) QUEUE[i] = 0.05 * int(i / conc)
    }
    rate = arg("request_rate")
    if (rate != "inf" && rate + 0 > 0 && n / rate > duration) duration = n / rate
    stats("ttft", TTFT, TTFT_W, failed ? 0 : n)
    stats("tpot", TPOT, TPOT_W, failed ? 0 : nt)
    stats("itl", ITL, ITL_W, failed ? 0 : n)
    stats("e2el", E2E, E2E_W, failed ? 0 : n)
    peak_tokens = failed ? 0 : min(total_out, floor(1000 * conc / tpot_base))
    peak_requests = failed ? 0 : min(n, 2 * conc)
}

function metric_block(key, label, header,    k, p, word) {
    if (!SELECTED[key]) return
    title(header, "-")
    rowf("Mean " label " (ms):", MEAN[key])
    rowf("Median " label " (ms):", pct(key, 50))
    JSON = JSON sprintf(", \"mean_%s_ms\": %s, \"median_%s_ms\": %s, \"std_%s_ms\": %s", key, pyfloat(MEAN[key]),
        key, pyfloat(pct(key, 50)), key, pyfloat(STD[key]))
    for (k = 1; k <= npcts; k++) {
        p = PCTS[k] + 0
        word = (p == int(p)) ? sprintf("%d", p) : pyfloat(p)
        rowf("P" word " " label " (ms):", pct(key, p))
        JSON = JSON sprintf(", \"p%s_%s_ms\": %s", word, key, pyfloat(pct(key, p)))
    }
}

function list(A, n,    i, s) {
    s = "["
    for (i = 0; i < n; i++) s = s (i ? ", " : "") pyfloat(A[i])
    return s "]"
}

function vllm_output(    k, selected, m, kv, line, errs, e, shown, rate_json, meta) {
    if (failed) {
        print "Failed requests during benchmark run detected (capping to 10):"
        errs = ""
        while ((getline line < errors) > 0) errs = errs (errs == "" ? "" : "\n") line
        for (e = 0; e < min(n, 10); e++) print "Error " e ": " errs
    } else
        print "tip: install termplotlib and gnuplot to plot the metrics"
    title(" Serving Benchmark Result ", "=")
    row("Successful requests:", completed)
    row("Failed requests:", n - completed)
    if (c > 0) row("Maximum request concurrency:", c)
    rate = arg("request_rate")
    if (rate != "inf") rowf("Request rate configured (RPS):", rate)
    rowf("Benchmark duration (s):", duration)
    row("Total input tokens:", total_in)
    row("Total generated tokens:", total_out)
    rowf("Request throughput (req/s):", completed / duration)
    rowf("Output token throughput (tok/s):", total_out / duration)
    rowf("Peak output token throughput (tok/s):", peak_tokens)
    rowf("Peak concurrent requests:", peak_requests)
    rowf("Total token throughput (tok/s):", (total_in + total_out) / duration)
    selected = arg("percentile_metrics")
    if (selected == "") selected = "ttft,tpot,itl"
    m = split(selected, kv, ",")
    for (k = 1; k <= m; k++) SELECTED[kv[k]] = 1
    npcts = split(arg("metric_percentiles"), PCTS, ",")
    JSON = ""
    metric_block("ttft", "TTFT", "Time to First Token")
    metric_block("tpot", "TPOT", "Time per Output Token (excl. 1st token)")
    metric_block("itl", "ITL", "Inter-token Latency")
    metric_block("e2el", "E2EL", "End-to-end Latency")
    print "=================================================="
    if (out == "") return
    rate_json = rate == "inf" ? "\"inf\"" : pyfloat(rate)
    meta = ""
    m = split(arg("metadata"), kv, " ")
    for (k = 1; k <= m; k++)
        if (index(kv[k], "="))
            meta = meta sprintf(", %s: %s", jstr(substr(kv[k], 1, index(kv[k], "=") - 1)),
                jstr(substr(kv[k], index(kv[k], "=") + 1)))
    line = sprintf("{\"date\": %s, \"endpoint_type\": %s, \"backend\": %s, \"label\": %s, \"model_id\": %s, " \
        "\"tokenizer_id\": %s, \"num_prompts\": %d%s, \"request_rate\": %s, \"burstiness\": %s, " \
        "\"max_concurrency\": %s, \"duration\": %s, \"completed\": %d, \"failed\": %d, " \
        "\"total_input_tokens\": %d, \"total_output_tokens\": %d, \"request_throughput\": %s, " \
        "\"request_goodput\": null, \"output_throughput\": %s, \"total_token_throughput\": %s, " \
        "\"latencies\": %s, \"queue_times\": %s, \"max_output_tokens_per_s\": %s, " \
        "\"max_concurrent_requests\": %d, \"rtfx\": 0.0%s}",
        jstr(date), jstr(arg("backend")), jstr(arg("backend")), arg("label") == "" ? "null" : jstr(arg("label")),
        jstr(model_id), jstr(tokenizer_id), n, meta, rate_json, pyfloat(arg("burstiness")),
        c > 0 ? c : "null", pyfloat(duration), completed, n - completed, total_in, total_out,
        pyfloat(completed / duration), pyfloat(total_out / duration), pyfloat((total_in + total_out) / duration),
        list(LAT, n), list(QUEUE, n), pyfloat(peak_tokens), peak_requests, JSON)
    if (append) {
        size = 0
        while ((getline old < out) > 0) size++
        close(out)
        printf "%s%s", size ? "\n" : "", line >> out
    } else
        printf "%s", line > out
}

function sglang_block(key, label, header, with_max) {
    title(header, "-")
    rowf("Mean " label " (ms):", MEAN[key])
    rowf("Median " label " (ms):", pct(key, 50))
    rowf("P90 " label " (ms):", pct(key, 90))
    rowf("P95 " label " (ms):", pct(key, 95))
    rowf("P99 " label " (ms):", pct(key, 99))
    if (with_max) rowf("Max " label " (ms):", MAXV[key])
}

function sglang_keys(key, name) {
    return sprintf(", \"mean_%s_ms\": %s, \"median_%s_ms\": %s, \"std_%s_ms\": %s, \"p90_%s_ms\": %s, " \
        "\"p95_%s_ms\": %s, \"p99_%s_ms\": %s", name, pyfloat(MEAN[key]), name, pyfloat(pct(key, 50)),
        name, pyfloat(STD[key]), name, pyfloat(pct(key, 90)), name, pyfloat(pct(key, 95)),
        name, pyfloat(pct(key, 99)))
}

function sglang_output(    rate, info, line) {
    rate = arg("request_rate")
    print ""
    title(" Serving Benchmark Result ", "=")
    row("Backend:", arg("backend"))
    row("Traffic request rate:", rate)
    row("Max request concurrency:", c > 0 ? c : "not set")
    row("Successful requests:", completed)
    rowf("Benchmark duration (s):", duration)
    row("Total input tokens:", total_in)
    row("Total input text tokens:", total_in)
    row("Total generated tokens:", total_out)
    row("Total generated tokens (retokenized):", total_out)
    rowf("Request throughput (req/s):", completed / duration)
    rowf("Input token throughput (tok/s):", total_in / duration)
    rowf("Output token throughput (tok/s):", total_out / duration)
    rowf("Peak output token throughput (tok/s):", peak_tokens)
    row("Peak concurrent requests:", peak_requests)
    rowf("Total token throughput (tok/s):", (total_in + total_out) / duration)
    rowf("Concurrency:", sum_e2e / duration)
    sglang_block("e2el", "E2E Latency", "End-to-End Latency", 0)
    sglang_block("ttft", "TTFT", "Time to First Token", 0)
    sglang_block("tpot", "TPOT", "Time per Output Token (excl. 1st token)", 0)
    sglang_block("itl", "ITL", "Inter-Token Latency", 1)
    print "=================================================="
    info = "null"
    if (server_info != "") {
        info = ""
        while ((getline line < server_info) > 0) info = info line
        if (info == "") info = "null"
    }
    line = sprintf("{\"tag\": %s, \"backend\": %s, \"dataset_name\": %s, \"request_rate\": %s, " \
        "\"max_concurrency\": %s, \"sharegpt_output_len\": %s, \"random_input_len\": %d, " \
        "\"random_output_len\": %d, \"random_range_ratio\": %s, \"server_info\": %s, \"duration\": %s, " \
        "\"completed\": %d, \"total_input_tokens\": %d, \"total_input_text_tokens\": %d, " \
        "\"total_input_vision_tokens\": 0, \"total_output_tokens\": %d, \"total_output_tokens_retokenized\": %d, " \
        "\"request_throughput\": %s, \"input_throughput\": %s, \"output_throughput\": %s, \"total_throughput\": %s" \
        "%s%s%s%s, \"concurrency\": %s, \"accept_length\": null, \"max_output_tokens_per_s\": %s, " \
        "\"max_concurrent_requests\": %d}",
        arg("tag") == "" ? "null" : jstr(arg("tag")), jstr(arg("backend")), jstr(arg("dataset_name")),
        rate == "inf" ? "Infinity" : pyfloat(rate), c > 0 ? c : "null",
        arg("sharegpt_output_len") == "" ? "null" : arg("sharegpt_output_len"), lin, lout,
        pyfloat(arg("random_range_ratio")), info, pyfloat(duration), completed, total_in, total_in, total_out,
        total_out, pyfloat(completed / duration), pyfloat(total_in / duration), pyfloat(total_out / duration),
        pyfloat((total_in + total_out) / duration), sglang_keys("e2el", "e2e_latency"), sglang_keys("ttft", "ttft"),
        sglang_keys("tpot", "tpot"), sglang_keys("itl", "itl"), pyfloat(sum_e2e / duration), pyfloat(peak_tokens),
        peak_requests)
    if (out != "") print line >> out
}

FNR == NR {
    split($0, f, "\t")
    RAW[f[1]] = f[5]
    next
}

END {
    ignore_eos = (tool == "vllm") ? 1 : (arg("disable_ignore_eos") != "True")
    problem = workload()
    if (mode == "plan") {
        if (problem != "") { print "error " problem; exit }
        print "bounds " BOUNDS
        print "totals " planned_in " " planned_out
        exit
    }
    simulate()
    if (tool == "vllm") vllm_output()
    else sglang_output()
}
