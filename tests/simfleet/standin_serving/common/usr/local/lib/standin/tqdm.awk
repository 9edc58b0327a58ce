# One tqdm update as the benchmarks print it without a terminal (10-cell bar, \r before each update):
#   awk -v done=N -v total=M -v t=ELAPSED_SECONDS -f tqdm.awk
function clock(s,    m) {
    s = int(s)
    m = int(s / 60)
    if (m >= 60) return sprintf("%d:%02d:%02d", int(m / 60), m % 60, s % 60)
    return sprintf("%02d:%02d", m, s % 60)
}
BEGIN {
    split("▏ ▎ ▍ ▌ ▋ ▊ ▉", part, " ")
    frac = total > 0 ? done / total : 0
    units = int(frac * 10 * 8)
    full = int(units / 8)
    rest = units % 8
    bar = ""
    for (i = 0; i < full && i < 10; i++) bar = bar "█"
    if (full < 10) {
        bar = bar (rest ? part[rest] : " ")
        for (i = full + 1; i < 10; i++) bar = bar " "
    }
    if (done == 0 || t <= 0) {
        rate = "?it/s"
        remaining = "?"
    } else {
        r = done / t
        rate = r >= 1 ? sprintf("%5.2fit/s", r) : sprintf("%5.2fs/it", 1 / r)
        remaining = clock((total - done) / r)
    }
    printf "\r%3.0f%%|%s| %d/%d [%s<%s, %s]", frac * 100, bar, done, total, clock(t), remaining, rate
}
