# scripts/kernel-coverage.awk: turns gcov's text output (one file per variant) into the per-variant
# summary, the JSON and the verdict against the allowlist (scripts/kernel-coverage, docs/coverage.md).
# SPDX-License-Identifier: MIT
# vars: allow (allowlist path), have (" flag flag ... " from /proc/cpuinfo), order (variants, in
#       registry order, "name=status;..."), json and tsv (output paths), tier (what ran), names (exit code 2 on
#       a bad allowlist line). Inputs: DIR/<variant>.txt from `gcov -b -c -t`; _static.txt (no counts)
#       and _harness.txt (the parent process) are not variants.

function trim(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
function jstr(s) {
    gsub(/\\/, "&&", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
    gsub(/[\001-\037]/, "?", s)
    return "\"" s "\""
}
function fail_config(msg) { print "kernel-coverage: " msg > "/dev/stderr"; config_error = 1; exit 2 }

# An allowlist reason applies on this machine: isa:F,G when it lacks one of them; without-isa:F,G
# when it has them all; defensive:, outside-cases: and timing: always (timing: entries, reached on
# some runs and not on others, are never stale).
function applies(reason,    kind, feats, n, i, f, lacks) {
    kind = reason; sub(/:.*/, "", kind)
    if (kind == "defensive" || kind == "outside-cases" || kind == "timing")
        return 1
    feats = reason; sub(/^[^:]*:/, "", feats); sub(/[ \t].*/, "", feats)
    n = split(feats, f, ",")
    lacks = 0
    for (i = 1; i <= n; i++)
        if (index(have, " " f[i] " ") == 0)
            lacks = 1
    return kind == "isa" ? lacks : !lacks
}

function read_allowlist(    line, n, parts, rest, i, k, r) {
    n_allow = 0
    while ((r = (getline line < allow)) > 0) {
        lineno_allow++
        if (line ~ /^[ \t]*(#|$)/)
            continue
        rest = line
        for (i = 1; i <= 3; i++) {
            k = index(rest, " | ")
            if (k == 0)
                fail_config(allow ":" lineno_allow ": want 'file | function | reason | line text', got '" line "'")
            parts[i] = trim(substr(rest, 1, k - 1))
            rest = substr(rest, k + 3)
        }
        parts[4] = trim(rest)
        if (parts[3] !~ /^(isa|without-isa):[a-z0-9_]+(,[a-z0-9_]+)* +[^ ]/ &&
            parts[3] !~ /^(defensive|outside-cases|timing): *[^ ]/)
            fail_config(allow ":" lineno_allow ": the reason must be 'isa:FEATURE[,FEATURE] why', " \
                        "'without-isa:FEATURE[,FEATURE] why', 'defensive: why', 'outside-cases: why' or 'timing: why', got '" parts[3] "'")
        if (parts[1] == "" || parts[2] == "" || parts[4] == "")
            fail_config(allow ":" lineno_allow ": empty field in '" line "'")
        n_allow++
        a_file[n_allow] = parts[1]; a_fn[n_allow] = parts[2]; a_reason[n_allow] = parts[3]
        a_text[n_allow] = parts[4]; a_line[n_allow] = lineno_allow; a_on[n_allow] = applies(parts[3])
        a_timing[n_allow] = parts[3] ~ /^timing:/
    }
    if (r < 0)
        fail_config("cannot read the allowlist " allow)
    close(allow)
}

BEGIN {
    n_order = split(order, ord, ";")
    for (i = 1; i <= n_order; i++) {
        k = index(ord[i], "=")
        vname[i] = substr(ord[i], 1, k - 1); vstatus[vname[i]] = substr(ord[i], k + 1)
    }
    read_allowlist()
}

FNR == 1 {
    v = FILENAME; sub(/.*\//, "", v); sub(/\.txt$/, "", v)
    keep = 0; cur = ""; curfn = ""; cand = 0; tu = ""
}

/^function / { next }

/^branch / {
    if (!keep || lastfl == "")
        next
    bkey = tu SUBSEP lastfl SUBSEP (++bidx)
    arcs[bkey] = 1
    if ($0 ~ /taken [1-9]/) {
        taken[bkey] = 1
        vtaken[v, bkey] = 1
    }
    next
}

/^(call|unconditional) / { next }

{
    c = index($0, ":")
    if (c == 0)
        next
    cnt = substr($0, 1, c - 1); gsub(/ /, "", cnt)
    rest = substr($0, c + 1); c = index(rest, ":")
    ln = substr(rest, 1, c - 1) + 0; txt = substr(rest, c + 1)
    lastfl = ""
    if (ln == 0) {
        if (txt ~ /^Source:/) {
            src = substr(txt, 8)
            keep = (src ~ /(^|\/)kernels\/cpu\/[^\/]+$/)
            sub(/.*kernels\/cpu\//, "kernels/cpu/", src)
            cur = src; curfn = ""; cand = 0
            if (keep)
                files[src] = 1
        } else if (txt ~ /^Graph:/) {
            tu = substr(txt, 7); sub(/.*\//, "", tu)
        }
        next
    }
    if (!keep)
        next
    fl = cur SUBSEP ln
    text[fl] = txt
    # The function a line is in, from the source as this project writes it (the signature from
    # column 0, "{" alone at column 0), not from gcov, which names only functions left out of line.
    if (txt ~ /^[A-Za-z_]/ && index(txt, "(") && txt !~ /;[ \t]*$/) {
        cand = ln; candname = txt
        sub(/\(.*/, "", candname); sub(/.*[^A-Za-z0-9_]/, "", candname)
    } else if (txt ~ /^\{/ && cand) {
        for (i = cand; i < ln; i++)
            fn[cur SUBSEP i] = candname
        curfn = candname; cand = 0
    } else if (txt ~ /^[^ \t]/) {
        cand = 0
    }
    if (!(fl in fn))
        fn[fl] = curfn == "" ? "-" : curfn
    if (txt ~ /^}/)
        curfn = ""
    if (ln > maxline[cur])
        maxline[cur] = ln
    if (cnt == "-")
        next
    sub(/\*$/, "", cnt)
    exe[fl] = 1
    lastfl = fl; bidx = 0
    if (cnt != "#####" && cnt != "=====" && cnt + 0 > 0) {
        reached[fl] = 1
        vreach[v, fl] = 1
        touched[v, cur] = 1
    }
}

# The line's anchor: its text, with " @k" when the text is not unique among its function's lines.
function anchor(f, ln,    fl, t, i, k, same) {
    fl = f SUBSEP ln
    if (fl in anchors)
        return anchors[fl]
    t = trim(text[fl]); k = 0; same = 0
    for (i = 1; i <= maxline[f]; i++)
        if ((f SUBSEP i) in exe && fn[f SUBSEP i] == fn[fl] && trim(text[f SUBSEP i]) == t) {
            same++
            if (i == ln)
                k = same
        }
    return anchors[fl] = (same > 1 ? t " @" k : t)
}

function allowed_by(f, ln,    i, fl) {
    fl = f SUBSEP ln
    for (i = 1; i <= n_allow; i++) {
        if (a_file[i] != f || (a_fn[i] != "*" && a_fn[i] != fn[fl]))
            continue
        if (a_text[i] != "*" && a_text[i] != anchor(f, ln))
            continue
        matched[i] = 1
        if (a_on[i]) {
            used[i] = 1
            return i
        }
    }
    return 0
}

function sort_files(    f, i, j, t) {
    n_files = 0
    for (f in files)
        flist[++n_files] = f
    for (i = 2; i <= n_files; i++)
        for (j = i; j > 1 && flist[j - 1] > flist[j]; j--) {
            t = flist[j]; flist[j] = flist[j - 1]; flist[j - 1] = t
        }
}

END {
    if (config_error)
        exit 2
    sort_files()
    # A variant entered a function when it reached one of its lines.
    for (k in vreach) {
        split(k, kp, SUBSEP)
        entered[kp[1], kp[2], fn[kp[2] SUBSEP kp[3]]] = 1
        anyentered[kp[2], fn[kp[2] SUBSEP kp[3]]] = 1
    }
    for (k in reached) {
        split(k, kp, SUBSEP)
        anyentered[kp[1], fn[k]] = 1
    }
    # ---- the tier as a whole: every line of every kernel file ----
    lines_total = 0; lines_reached = 0; n_unreached = 0; n_new = 0; arcs_total = 0; arcs_taken = 0
    for (b in arcs) {
        split(b, bp, SUBSEP)
        if ((bp[2] SUBSEP bp[3]) in reached) {
            arcs_total++
            if (b in taken) arcs_taken++
        }
    }
    for (i = 1; i <= n_files; i++) {
        f = flist[i]; ftotal[f] = 0; freached[f] = 0
        for (ln = 1; ln <= maxline[f]; ln++) {
            fl = f SUBSEP ln
            if (!(fl in exe))
                continue
            ftotal[f]++; lines_total++
            if (fl in reached) {
                freached[f]++; lines_reached++
                continue
            }
            n_unreached++
            u_file[n_unreached] = f; u_line[n_unreached] = ln
            u_allow[n_unreached] = allowed_by(f, ln)
            if (!u_allow[n_unreached])
                n_new++
        }
    }
    # ---- per variant: in the files it reached, the lines of the functions it entered (and of
    # functions no variant entered) that none of its cases reached; arcs never taken on its lines ----
    for (vi = 1; vi <= n_order; vi++) {
        v = vname[vi]; vt[v] = 0; vr[v] = 0; vu[v] = 0; va[v] = 0; vat[v] = 0; vlist[v] = ""; vblist[v] = ""; vwords[v] = ""
        for (i = 1; i <= n_files; i++) {
            f = flist[i]
            if (!((v SUBSEP f) in touched))
                continue
            for (ln = 1; ln <= maxline[f]; ln++) {
                fl = f SUBSEP ln
                if (!(fl in exe))
                    continue
                if ((v SUBSEP fl) in vreach) {
                    vt[v]++; vr[v]++
                    continue
                }
                if (!((v SUBSEP f SUBSEP fn[fl]) in entered) && ((f SUBSEP fn[fl]) in anyentered))
                    continue
                vt[v]++; vu[v]++
                vwords[v] = vwords[v] (vwords[v] == "" ? "" : " ") f ":" ln
                vlist[v] = vlist[v] (vlist[v] == "" ? "" : ",") "\n        {\"file\": " jstr(f) ", \"line\": " ln \
                           ", \"function\": " jstr(fn[fl]) ", \"text\": " jstr(trim(text[fl])) "}"
            }
        }
    }
    for (b in arcs) {
        split(b, bp, SUBSEP)
        for (vi = 1; vi <= n_order; vi++) {
            v = vname[vi]
            if (!((v SUBSEP bp[2] SUBSEP bp[3]) in vreach))
                continue
            va[v]++
            if ((v SUBSEP b) in vtaken)
                vat[v]++
            else
                vbn[v, bp[2] SUBSEP bp[3]]++
        }
    }

    # ---- terminal summary (fits 80 columns) ----
    printf "kernel coverage of %s (cpu kernels, gcov)\n\n", tier
    printf "%-30s %7s %7s %9s %13s\n", "variant", "lines", "reached", "unreached", "arcs not taken"
    for (vi = 1; vi <= n_order; vi++) {
        v = vname[vi]
        if (vstatus[v] != "runs here") {
            printf "%-30s %s\n", v, "not run here: " vstatus[v]
            continue
        }
        printf "%-30s %7d %7d %9d %7d of %d\n", v, vt[v], vr[v], vu[v], va[v] - vat[v], va[v]
    }
    printf "\n%-30s %7d %7d %9d %7d of %d\n", "all variants (the gate)", lines_total, lines_reached,
           n_unreached, arcs_total - arcs_taken, arcs_total
    printf "\n%-36s %7s %7s\n", "file", "lines", "reached"
    for (i = 1; i <= n_files; i++)
        printf "%-36s %7d %7d\n", flist[i], ftotal[flist[i]], freached[flist[i]]
    if (n_unreached > n_new) {
        printf "\nunreached, allowed by %s:\n", allow
        for (i = 1; i <= n_unreached; i++)
            if (u_allow[i]) {
                r = a_reason[u_allow[i]]; per_reason[r]++
                if (per_reason[r] == 1) reasons[++n_reasons] = r
            }
        for (i = 1; i <= n_reasons; i++)
            printf "  %4d  %s\n", per_reason[reasons[i]], reasons[i]
    }
    n_stale = 0
    for (i = 1; i <= n_allow; i++)
        if (a_on[i] && !used[i] && !a_timing[i]) {
            n_stale++
            printf "%swarning: %s:%d matches no unreached line (stale): %s | %s | %s\n", (n_stale == 1 ? "\n" : ""),
                   allow, a_line[i], a_file[i], a_fn[i], a_text[i]
        }
    if (n_new) {
        printf "\nFAIL: %d kernel line(s) no case reached and the allowlist does not excuse:\n", n_new
        for (i = 1; i <= n_unreached; i++)
            if (!u_allow[i])
                printf "  %s:%d (%s): %s\n", u_file[i], u_line[i], fn[u_file[i] SUBSEP u_line[i]],
                       trim(text[u_file[i] SUBSEP u_line[i]])
        printf "Reach them with a case (cases/coverage.lua), or excuse each in %s:\n", allow
        for (i = 1; i <= n_unreached; i++)
            if (!u_allow[i])
                printf "  %s | %s | defensive: WHY | %s\n", u_file[i], fn[u_file[i] SUBSEP u_line[i]],
                       anchor(u_file[i], u_line[i])
    } else {
        printf "\nok: every kernel line was reached or is excused (%d excused)\n", n_unreached
    }

    # ---- JSON (docs/coverage.md describes it) ----
    printf "{\n  \"tool\": \"kernel-coverage\",\n  \"tier\": %s,\n  \"allowlist\": %s,\n", jstr(tier), jstr(allow) > json
    printf "  \"verdict\": %s,\n  \"new_unreached\": %d,\n", jstr(n_new ? "fail" : "pass"), n_new > json
    printf "  \"lines\": %d,\n  \"lines_reached\": %d,\n  \"arcs\": %d,\n  \"arcs_taken\": %d,\n",
           lines_total, lines_reached, arcs_total, arcs_taken > json
    printf "  \"files\": [" > json
    for (i = 1; i <= n_files; i++)
        printf "%s\n    {\"file\": %s, \"lines\": %d, \"lines_reached\": %d}", (i > 1 ? "," : ""), jstr(flist[i]),
               ftotal[flist[i]], freached[flist[i]] > json
    printf "\n  ],\n  \"unreached\": [" > json
    for (i = 1; i <= n_unreached; i++) {
        fl = u_file[i] SUBSEP u_line[i]
        printf "%s\n    {\"file\": %s, \"line\": %d, \"function\": %s, \"text\": %s, \"anchor\": %s, \"allowed\": %s}",
               (i > 1 ? "," : ""), jstr(u_file[i]), u_line[i], jstr(fn[fl]), jstr(trim(text[fl])),
               jstr(anchor(u_file[i], u_line[i])), (u_allow[i] ? jstr(a_reason[u_allow[i]]) : "null") > json
    }
    printf "\n  ],\n  \"stale_allowlist\": [" > json
    k = 0
    for (i = 1; i <= n_allow; i++)
        if (a_on[i] && !used[i] && !a_timing[i])
            printf "%s\n    {\"line\": %d, \"file\": %s, \"function\": %s, \"text\": %s}", (k++ ? "," : ""), a_line[i],
                   jstr(a_file[i]), jstr(a_fn[i]), jstr(a_text[i]) > json
    printf "\n  ],\n  \"variants\": [" > json
    for (vi = 1; vi <= n_order; vi++) {
        v = vname[vi]
        printf "%s\n    {\"name\": %s, \"status\": %s, \"lines\": %d, \"lines_reached\": %d, \"arcs\": %d, \"arcs_taken\": %d,",
               (vi > 1 ? "," : ""), jstr(v), jstr(vstatus[v]), vt[v], vr[v], va[v], vat[v] > json
        printf "\n      \"unreached\": [%s%s],", vlist[v], (vlist[v] == "" ? "" : "\n      ") > json
        k = 0
        printf "\n      \"arcs_not_taken\": [" > json
        for (i = 1; i <= n_files; i++) {
            f = flist[i]
            for (ln = 1; ln <= maxline[f]; ln++)
                if ((v SUBSEP f SUBSEP ln) in vbn)
                    printf "%s\n        {\"file\": %s, \"line\": %d, \"arcs\": %d}", (k++ ? "," : ""), jstr(f), ln,
                           vbn[v, f SUBSEP ln] > json
        }
        printf "%s]}", (k ? "\n      " : "") > json
    }
    printf "\n  ]\n}\n" > json
    close(json)
    # ---- the TSV the HTML report reads (`metallic-check report --kernel-coverage`; docs/coverage.md):
    # the gate's row, then a row a variant; unreached lines and arcs not taken as "file:line" words ----
    printf "variant\tstatus\tlines\tlines_reached\tarcs\tarcs_taken\tunreached\tarcs_not_taken\n" > tsv
    gate = ""
    for (i = 1; i <= n_unreached; i++)
        if (!u_allow[i])
            gate = gate (gate == "" ? "" : " ") u_file[i] ":" u_line[i]
    printf "%s\t%s\t%d\t%d\t%d\t%d\t%s\t\n", "all variants (the gate)", (n_new ? "fail: " n_new " new unreached" : "pass"),
           lines_total, lines_reached, arcs_total, arcs_taken, gate > tsv
    for (vi = 1; vi <= n_order; vi++) {
        v = vname[vi]
        printf "%s\t%s\t%d\t%d\t%d\t%d\t%s\t", v, vstatus[v], vt[v], vr[v], va[v], vat[v], vwords[v] > tsv
        k = 0
        for (i = 1; i <= n_files; i++)
            for (ln = 1; ln <= maxline[flist[i]]; ln++)
                if ((v SUBSEP flist[i] SUBSEP ln) in vbn)
                    printf "%s%s:%d", (k++ ? " " : ""), flist[i], ln > tsv
        printf "\n" > tsv
    }
    close(tsv)
    exit n_new ? 1 : 0
}
