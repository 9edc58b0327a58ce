# The screen and the result tables of the stand-in text-generation-benchmark.
#
# Reads events, one per line, from stdin: W (warm-up done), R (one measured run
# done), B (batch done), E (the generation task failed), T (a tick), S <rows>
# <cols> (the terminal was resized), K<key> (a key press: Kq, Kc for Ctrl-C,
# Ktab, Kright, Kleft, K+, K-). On ticks and keys it draws a frame like ratatui:
# only the cells that changed, each run of them placed by a cursor move.
# On Kq/Kc it writes the three tables to the file `out` and exits.
#
# Variables (-v): batches ("1 2 4"), runs, warmups, seq, dec, model, version,
# rows, cols, out, and the parameter-table texts top_n, temperature, top_k,
# top_p, typical_p, rep_pen, freq_pen, watermark, do_sample.
#
# Synthetic timings (ms) for measured run r (1-based) of batch size b, with
# steps = dec - 1 decode steps (see README.md):
#   prefill = (20 + 0.15 * b * seq) * (1 + k1(r) / 100),  k1(r) = (7r mod 11) - 5
#   decode  = steps * (10 + 0.25 * b) * (1 + k2(r) / 200), k2(r) = (3r mod 7) - 3

function k1(r) { return (r * 7) % 11 - 5 }
function k2(r) { return (r * 3) % 7 - 3 }
function prefill_ms(b, r) { return (20 + 0.15 * b * seq) * (1 + k1(r) / 100) }
function decode_ms(b, r) { return steps * (10 + 0.25 * b) * (1 + k2(r) / 200) }

function version_ge(a, b,    x, y, i) {
    split(a, x, "."); split(b, y, ".")
    for (i = 1; i <= 3; i++) {
        if (x[i] + 0 > y[i] + 0) return 1
        if (x[i] + 0 < y[i] + 0) return 0
    }
    return 1
}

function record_run(    b, r, p, d) {
    b = B[cur] + 0
    r = ++n[cur]
    p = prefill_ms(b, r)
    d = decode_ms(b, r)
    PL[cur, r] = p
    PT[cur, r] = new_prefill ? b * seq / (p / 1000) : b / (p / 1000)
    DL[cur, r] = d
    DT[cur, r] = d / steps
    DTP[cur, r] = b * steps / (d / 1000)
    completed[cur]++
}

function end_batch() {
    done_batches++
    if (cur < nb) {
        if (!touched) tab++
        cur++
    }
}

# stats(X, i): Average, Lowest, Highest and p50/p90/p99 (read by index from the
# sorted values) of X[i, 1..n[i]], into st[]; NaN when there is no value.
function stats(X, i,    k, m, j, t, v, sum, s) {
    m = n[i]
    if (m == 0) {
        st["avg"] = st["min"] = st["max"] = st["p50"] = st["p90"] = st["p99"] = "NaN"
        return
    }
    sum = 0
    for (k = 1; k <= m; k++) {
        v = X[i, k]
        sum += v
        j = k - 1
        while (j >= 1 && s[j] > v) { s[j + 1] = s[j]; j-- }
        s[j + 1] = v
    }
    st["avg"] = sum / m
    st["min"] = s[1]
    st["max"] = s[m]
    st["p50"] = s[int(50 / 100 * m) + 1]
    st["p90"] = s[int(90 / 100 * m) + 1]
    st["p99"] = s[int(99 / 100 * m) + 1]
}

function fmt(v, unit) {
    if (v == "NaN") return "NaN " unit
    return sprintf("%.2f %s", v, unit)
}

# ---------------------------------------------------------------- screen
#
# Cells are keyed r * 1000 + c. The static parts (borders, titles) are drawn on
# the first frame and after a resize (`full`); other frames repaint only the
# dynamic areas and compare only the cells they touched (listed in TL).

function cell(r, c, ch, attr,    k) {
    if (r < 1 || r > H || c < 1 || c > W) return
    k = r * 1000 + c
    SC[k] = ch
    SA[k] = attr
    if (!full) TL[++nt] = k
}

function text(r, c, s, attr, maxw,    i, l) {
    l = length(s)
    if (maxw != "" && l > maxw) l = maxw
    for (i = 1; i <= l; i++) cell(r, c + i - 1, substr(s, i, 1), attr)
}

function fill(r, c, h, w, attr,    i, j) {
    for (i = r; i < r + h; i++) for (j = c; j < c + w; j++) cell(i, j, " ", attr)
}

# A bordered block; a styled block (attr set) styles every cell of its area,
# so ratatui's first frame writes its blank cells too.
function box(r, c, h, w, title, attr,    i) {
    if (h < 2 || w < 2) return
    if (attr != "") fill(r + 1, c + 1, h - 2, w - 2, attr)
    cell(r, c, "┌", attr); cell(r, c + w - 1, "┐", attr)
    cell(r + h - 1, c, "└", attr); cell(r + h - 1, c + w - 1, "┘", attr)
    for (i = c + 1; i < c + w - 1; i++) { cell(r, i, "─", attr); cell(r + h - 1, i, "─", attr) }
    for (i = r + 1; i < r + h - 1; i++) { cell(i, c, "│", attr); cell(i, c + w - 1, "│", attr) }
    text(r, c + 1, title, attr, w - 2)
}

# The inner row of a gauge: filled part in the colour as background, label centred.
function gauge(r, c, w, label, ratio, color,    inner, filled, i, start, x, l) {
    inner = w - 2
    filled = int((ratio > 1 ? 1 : ratio) * inner)
    l = length(label)
    start = c + 1 + int((inner - l) / 2)
    for (i = 0; i < inner; i++) {
        x = c + 1 + i
        cell(r + 1, x, (x >= start && x < start + l) ? substr(label, x - start + 1, 1) : " ",
             i < filled ? BG[color] : FG[color])
    }
}

function latency_text(r, c, w, X) {
    fill(r + 1, c + 1, 6, w - 2, "")
    stats(X, tab)
    text(r + 1, c + 1, "Average: " fmt(st["avg"], "ms"), FG["lightblue"], w - 2)
    text(r + 2, c + 1, "Lowest:  " fmt(st["min"], "ms"), "", w - 2)
    text(r + 3, c + 1, "Highest: " fmt(st["max"], "ms"), "", w - 2)
    text(r + 4, c + 1, "p50:     " fmt(st["p50"], "ms"), FG["lightgreen"], w - 2)
    text(r + 5, c + 1, "p90:     " fmt(st["p90"], "ms"), FG["lightyellow"], w - 2)
    text(r + 6, c + 1, "p99:     " fmt(st["p99"], "ms"), FG["lightred"], w - 2)
}

function throughput_text(r, c, w, X) {
    fill(r + 1, c + 1, 3, w - 2, "")
    stats(X, tab)
    text(r + 1, c + 1, "Average: " fmt(st["avg"], "tokens/secs"), FG["lightblue"], w - 2)
    text(r + 2, c + 1, "Lowest:  " fmt(st["min"], "tokens/secs"), "", w - 2)
    text(r + 3, c + 1, "Highest: " fmt(st["max"], "tokens/secs"), "", w - 2)
}

function draw_static(    r, c, k) {
    for (r = 1; r <= H; r++) for (c = 1; c <= W; c++) { k = r * 1000 + c; SC[k] = " "; SA[k] = "" }
    text(1, 1, "Model: " model " | Sequence Length: " seq " | Decode Length: " dec, BOLD FG["white"])
    text(1, W - length(HELP) + 1, HELP, FG["white"])
    box(2, 1, 3, W, "Tabs", FG["lightcyan"])
    box(5, 1, 3, HALF, "Total Progress", "")
    box(5, HALF + 1, 3, W - HALF, "Batch Progress", "")
    box(8, 1, 8, Q, "Prefill Latency", "")
    box(16, 1, 5, Q, "Prefill Throughput", "")
    box(8, Q + 1, 13, Q, "Prefill latency histogram", FG["lightyellow"])
    box(8, 2 * Q + 1, 8, int(Q / 2), "Decode Total Latency", "")
    box(8, 2 * Q + 1 + int(Q / 2), 8, Q - int(Q / 2), "Decode Token Latency", "")
    box(16, 2 * Q + 1, 5, Q, "Decode Throughput", "")
    box(8, 3 * Q + 1, 13, W - 3 * Q, "Decode latency histogram", FG["lightyellow"])
    if (H > 21) {
        box(21, 1, H - 20, HALF, "Prefill throughput over latency", FG["cyan"])
        box(21, HALF + 1, H - 20, W - HALF, "Decode throughput over latency", FG["cyan"])
    }
}

function draw_dynamic(    x, i, title) {
    fill(3, 2, 1, W - 2, FG["lightcyan"])
    x = 2
    for (i = 1; i <= nb; i++) {
        title = "Batch: " B[i]
        text(3, x + 1, title, i == tab ? BOLD FG["white"] BG["black"] : FG["white"], W - x - 2)
        x += length(title) + 2
        if (i < nb) { cell(3, x, "│", FG["lightcyan"]); x++ }
    }
    gauge(5, 1, HALF, done_batches " / " nb, done_batches / nb, error ? "red" : "lightgreen")
    gauge(5, HALF + 1, W - HALF, completed[cur] " / " runs, completed[cur] / runs, error ? "red" : "lightblue")
    latency_text(8, 1, Q, PL)
    throughput_text(16, 1, Q, PT)
    latency_text(8, 2 * Q + 1, int(Q / 2), DL)
    latency_text(8, 2 * Q + 1 + int(Q / 2), Q - int(Q / 2), DT)
    throughput_text(16, 2 * Q + 1, Q, DTP)
}

function render() {
    if (full) draw_static()
    draw_dynamic()
    flush_frame()
}

# Write the cells that differ from the previous frame, as ratatui's diff does.
function flush_frame(    r, c, k, i, o, lr, lc, attr) {
    o = ""; lr = -1; lc = -1; attr = ""
    if (full) {
        nt = 0
        for (r = 1; r <= H; r++) for (c = 1; c <= W; c++) TL[++nt] = r * 1000 + c
    }
    for (i = 1; i <= nt; i++) {
        k = TL[i]
        if (SC[k] == PC[k] && SA[k] == PA[k]) continue
        r = int(k / 1000); c = k % 1000
        if (r != lr || c != lc + 1) o = o ESC "[" r ";" c "H"
        if (SA[k] != attr) { o = o ESC "[0m" SA[k]; attr = SA[k] }
        o = o SC[k]
        PC[k] = SC[k]; PA[k] = SA[k]
        lr = r; lc = c
    }
    nt = 0; full = 0
    if (o != "") {
        printf "%s%s[0m", o, ESC
        fflush()
    }
}

# A new terminal size: clear it and draw everything again (ratatui's autoresize).
function resize(rows, cols,    r, c, k) {
    H = rows + 0; W = cols + 0
    if (H < 1) H = 24
    if (W < 1) W = 80
    if (W > 999) W = 999
    HALF = int(W / 2); Q = int(W / 4)
    delete PC; delete PA; delete SC; delete SA
    for (r = 1; r <= H; r++) for (c = 1; c <= W; c++) { k = r * 1000 + c; PC[k] = " "; PA[k] = "" }
    if (drawn) printf "%s[2J", ESC
    drawn = 1
    full = 1
    render()
}

# ---------------------------------------------------------------- tables

function add_rows(step, X, unit, percentiles,    i) {
    for (i = 1; i <= nb; i++) {
        stats(X, i)
        nr++
        T[nr, 1] = step; T[nr, 2] = B[i]
        T[nr, 3] = fmt(st["avg"], unit); T[nr, 4] = fmt(st["min"], unit); T[nr, 5] = fmt(st["max"], unit)
        if (percentiles) {
            T[nr, 6] = fmt(st["p50"], unit); T[nr, 7] = fmt(st["p90"], unit); T[nr, 8] = fmt(st["p99"], unit)
        }
    }
}

# Markdown table of T[1..nr, 1..ncol] (row 1 = header), as `tabled` prints it;
# with merge, a cell equal to the one above it is left blank.
function print_table(ncol, merge,    r, c, w, line, v) {
    for (c = 1; c <= ncol; c++) {
        w[c] = 0
        for (r = 1; r <= nr; r++) if (length(T[r, c]) > w[c]) w[c] = length(T[r, c])
    }
    for (r = 1; r <= nr; r++) {
        line = "|"
        for (c = 1; c <= ncol; c++) {
            v = T[r, c]
            if (merge && r > 1 && T[r, c] == T[r - 1, c]) v = ""
            line = line sprintf(" %-" w[c] "s |", v)
        }
        print line > out
        if (r == 1) {
            line = "|"
            for (c = 1; c <= ncol; c++) line = line dashes(w[c] + 2) "|"
            print line > out
        }
    }
}

function dashes(k,    s) { s = ""; while (k-- > 0) s = s "-"; return s }

function param(name, value) { nr++; T[nr, 1] = name; T[nr, 2] = value }

function write_tables() {
    delete T; nr = 0
    param("Parameter", "Value")
    param("Model", model)
    param("Sequence Length", seq)
    param("Decode Length", dec)
    if (version_ge(version, "1.0.3")) param("Top N Tokens", top_n)
    param("N Runs", runs)
    param("Warmups", warmups)
    param("Temperature", temperature)
    param("Top K", top_k)
    param("Top P", top_p)
    param("Typical P", typical_p)
    param("Repetition Penalty", rep_pen)
    if (version_ge(version, "1.4.1")) param("Frequency Penalty", freq_pen)
    param("Watermark", watermark)
    param("Do Sample", do_sample)
    print "" > out
    print_table(2, 0)
    print "" > out

    delete T; nr = 1
    split("Step|Batch Size|Average|Lowest|Highest|p50|p90|p99", hdr, "|")
    for (i = 1; i <= 8; i++) T[1, i] = hdr[i]
    add_rows("Prefill", PL, "ms", 1)
    add_rows("Decode (token)", DT, "ms", 1)
    add_rows("Decode (total)", DL, "ms", 1)
    print "" > out
    print "" > out
    print_table(8, 1)
    print "" > out

    delete T; nr = 1
    for (i = 1; i <= 5; i++) T[1, i] = hdr[i]
    add_rows("Prefill", PT, "tokens/secs", 0)
    add_rows("Decode", DTP, "tokens/secs", 0)
    print "" > out
    print "" > out
    print_table(5, 1)
    print "" > out
    close(out)
}

BEGIN {
    ESC = sprintf("%c", 27)
    BOLD = ESC "[1m"
    # ratatui colour -> crossterm 256-colour index
    split("black 0 red 1 cyan 6 lightred 9 lightgreen 10 lightyellow 11 lightblue 12 lightcyan 14 white 15", cl, " ")
    for (i = 1; i < 18; i += 2) { FG[cl[i]] = ESC "[38;5;" cl[i + 1] "m"; BG[cl[i]] = ESC "[48;5;" cl[i + 1] "m" }
    HELP = "<- | tab | ->: change batch tab | q / CTRL + c: quit | +/-: zoom"
    nb = split(batches, B, " ")
    steps = dec - 1
    if (steps < 1) steps = 1
    new_prefill = version_ge(version, "2.4.1")
    cur = 1; tab = 1; touched = 0; done_batches = 0; error = 0
    for (i = 1; i <= nb; i++) { n[i] = 0; completed[i] = 0 }
    resize(rows, cols)

    # Like the real app: messages from the generation task only update the state;
    # a frame is drawn on each tick (T, every 250 ms) and on each key.
    while ((getline ev) > 0) {
        if (ev == "Kq" || ev == "Kc") break
        if (ev == "R") { record_run(); continue }
        if (ev == "B") { end_batch(); continue }
        if (ev == "E") { error = 1; continue }
        if (ev == "Ktab" || ev == "Kright") { touched = 1; tab = tab % nb + 1 }
        else if (ev == "Kleft") { touched = 1; tab = tab > 1 ? tab - 1 : nb }
        else if (ev ~ /^S [0-9]+ [0-9]+$/) { split(ev, sz, " "); resize(sz[2], sz[3]); continue }
        else if (ev != "T") continue
        render()
    }
    write_tables()
    exit 0
}
