# Python argparse, as far as the stand-in tools need it (busybox awk).
#
#   awk -v layout=bench|server -v prefix=0|1 [-v required=DEST,...] -v out=VALUES -f args.awk SPEC ARGS
#
# SPEC: the tool's arguments in Namespace order (bench: dest, flags, kind, default as a Python repr;
# server: section, dest, flags, kind, default as JSON; only section "arg" lines are arguments).
# ARGS: the command line, one argument per line.
# kind: str | int | float | bool (store_true) | list (nargs="+") | raw (kept as given) | fixed (not settable).
# prefix=1: unique prefixes of long options are accepted (argparse's allow_abbrev).
# required: comma-separated dests that must be given.
#
# Writes VALUES (dest, kind, set, Python repr, raw value; tab-separated, Namespace order) and prints shell
# assignments A_<dest>='<raw value>' (None = empty) and S_<dest>=1 for the arguments given. On an error prints
# ARGERR='<argparse message>' and exits 2.

function pystr(s,    q) {
    gsub(/\\/, "\\\\", s)
    gsub(/\n/, "\\n", s)
    if (index(s, "'") && !index(s, "\"")) return "\"" s "\""
    gsub(/'/, "\\'", s)
    return "'" s "'"
}

function is_int(v) { return v ~ /^[-+]?[0-9]+$/ }

function is_float(v,    l) {
    l = tolower(v)
    return v ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ || l ~ /^[-+]?(inf|infinity|nan)$/
}

# Python's repr of a float given as text.
function pyfloat(v,    l, x, s, p) {
    l = tolower(v)
    sub(/^\+/, "", l)
    if (l ~ /^(inf|infinity)$/) return "inf"
    if (l ~ /^-(inf|infinity)$/) return "-inf"
    if (l ~ /^[-]?nan$/) return "nan"
    x = v + 0
    if (x == int(x) && x < 1e16 && x > -1e16) return sprintf("%.0f", x) ".0"
    for (p = 1; p <= 17; p++) {
        s = sprintf("%." p "g", x)
        if (s + 0 == x) break
    }
    return s
}

function shquote(s) {
    gsub(/'/, "'\\''", s)
    return "'" s "'"
}

# JSON default -> Python repr (server layout).
function json_to_py(j,    out, i, c, instr) {
    if (j == "null") return "None"
    if (j == "true") return "True"
    if (j == "false") return "False"
    out = ""
    instr = 0
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

# Python repr default -> raw value for the shell.
function py_raw(r) {
    if (r == "None") return ""
    if (r ~ /^'.*'$/ || r ~ /^".*"$/) return substr(r, 2, length(r) - 2)
    return r
}

function fail(msg) {
    print "ARGERR=" shquote(msg)
    failed = 1
    exit 2
}

function option_name(d) {
    s = FLAGS[d]
    gsub(/,/, "/", s)
    return s
}

FNR == NR {
    if ($0 ~ /^#/ || $0 == "") next
    n = split($0, f, "\t")
    if (layout == "server") {
        if (f[1] != "arg") next
        dest = f[2]; flags = f[3]; kind = f[4]
        REPR[dest] = json_to_py(f[5])
        RAW[dest] = (f[5] == "null") ? "" : (f[5] ~ /^".*"$/ ? substr(f[5], 2, length(f[5]) - 2) : f[5])
    } else {
        dest = f[1]; flags = f[2]; kind = f[3]
        REPR[dest] = f[4]
        RAW[dest] = py_raw(f[4])
    }
    ORDER[++ndest] = dest
    KIND[dest] = kind
    FLAGS[dest] = flags
    m = split(flags, fl, ",")
    for (i = 1; i <= m; i++) OPT[fl[i]] = dest
    next
}

{ ARG[++nargs] = $0 }

END {
    if (failed) exit 2
    bad = ""
    i = 1
    while (i <= nargs) {
        a = ARG[i++]
        if (a == "-h" || a == "--help") { print "HELP=1"; exit 0 }
        if (a !~ /^--?[^-0-9.]/) { bad = bad (bad == "" ? "" : " ") a; continue }
        value = ""; has_value = 0
        name = a
        if (index(a, "=")) { name = substr(a, 1, index(a, "=") - 1); value = substr(a, index(a, "=") + 1); has_value = 1 }
        dest = ""
        if (name in OPT) dest = OPT[name]
        else if (prefix && name ~ /^--/) {
            hits = ""; nhits = 0
            for (k = 1; k <= ndest; k++) {   # in definition order, as argparse lists them
                m = split(FLAGS[ORDER[k]], fl, ",")
                for (j = 1; j <= m; j++) {
                    if (index(fl[j], name) == 1) {
                        nhits++
                        hits = hits (hits == "" ? "" : ", ") fl[j]
                        dest = ORDER[k]
                        break
                    }
                }
            }
            if (nhits > 1) fail("ambiguous option: " name " could match " hits)
            if (nhits == 0) dest = ""
        }
        if (dest == "" || KIND[dest] == "fixed") { bad = bad (bad == "" ? "" : " ") a; continue }
        kind = KIND[dest]
        if (kind == "bool") {
            if (has_value) fail("argument " option_name(dest) ": ignored explicit argument '" value "'")
            REPR[dest] = (name ~ /^--no-/) ? "False" : "True"
            RAW[dest] = (name ~ /^--no-/) ? "False" : "True"
            SET[dest] = 1
            continue
        }
        if (kind == "list") {
            items = ""; raw = ""; count = 0
            if (has_value) { items = pystr(value); raw = value; count = 1 }
            while (!has_value && i <= nargs && (ARG[i] !~ /^-/ || ARG[i] ~ /^-[0-9.]/)) {
                items = items (count ? ", " : "") pystr(ARG[i]); raw = raw (count ? " " : "") ARG[i]
                count++; i++
            }
            if (!count) fail("argument " option_name(dest) ": expected at least one argument")
            REPR[dest] = "[" items "]"; RAW[dest] = raw; SET[dest] = 1
            continue
        }
        if (!has_value) {
            if (i > nargs || (ARG[i] ~ /^-/ && ARG[i] !~ /^-[0-9.]/)) fail("argument " option_name(dest) ": expected one argument")
            value = ARG[i++]
        }
        if (kind == "int") {
            if (!is_int(value)) fail("argument " option_name(dest) ": invalid int value: " pystr(value))
            value = sprintf("%.0f", value + 0)
            REPR[dest] = value
        } else if (kind == "float") {
            if (!is_float(value)) fail("argument " option_name(dest) ": invalid float value: " pystr(value))
            REPR[dest] = pyfloat(value)
            value = REPR[dest]
        } else if (kind == "raw") {
            REPR[dest] = value
        } else {
            REPR[dest] = pystr(value)
        }
        RAW[dest] = value
        SET[dest] = 1
    }
    if (bad != "") fail("unrecognized arguments: " bad)
    for (k = 1; k <= ndest; k++) {
        d = ORDER[k]
        if (index("," required ",", "," d ",") && !SET[d])
            fail("the following arguments are required: " option_name(d))
    }
    for (k = 1; k <= ndest; k++) {
        d = ORDER[k]
        printf "%s\t%s\t%d\t%s\t%s\n", d, KIND[d], SET[d] ? 1 : 0, REPR[d], RAW[d] > out
        print "A_" d "=" shquote(RAW[d])
        if (SET[d]) print "S_" d "=1"
    }
}
