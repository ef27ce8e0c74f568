#!/usr/bin/python3
"""Writes a synthetic national routing directory from a real GV100AD file.

Every Land, Kreis, Gemeindeverband and Gemeinde of the file gets offices; N responsibilities
(default 10 million) over a few thousand synthetic LeiKa keys are spread over the levels in a
realistic mix: each Land and Kreis handles part of the services itself, each Verbandsgemeinde /
Amt (a Gemeindeverband of several Gemeinden) some more, each Gemeinde the bulk of the rest, and
every level has a catch-all ("*") office. Deterministic for a given seed.

Output, in --out (a scratch folder, e.g. build/national):
  routing.yaml          areas (the GV100AD file), offices, and `responsibilities_file:`
  responsibilities.tsv  the rules: SERVICE AREA OFFICE, one a line
  queries.tsv           lookups for the benchmark: ARS LEIKA, including unknown areas and
                        services (misses and fallbacks)

Usage: generate_directory.py --gv100ad FILE --out DIR [--rules N] [--services N] [--seed N]
"""
import argparse
import os
import random
import sys


def read_gv100ad(path):
    """The ARS of Länder, Kreise, Gemeindeverbände and Gemeinden, with their names."""
    lands, kreise, verbaende, gemeinden = {}, {}, {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            kind = line[0:2]
            name = line[22:72].rstrip()
            if kind == "10":
                lands[line[10:12]] = name
            elif kind == "40":
                kreise[line[10:15]] = name
            elif kind == "50":
                verbaende[line[10:15] + line[18:22]] = name
            elif kind == "60":
                gemeinden[line[10:15] + line[18:22] + line[15:18]] = name
    return lands, kreise, verbaende, gemeinden


def yaml_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gv100ad", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rules", type=int, default=10_000_000)
    ap.add_argument("--services", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--office-prefix", default="", help="prepended to every office id")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    lands, kreise, verbaende, gemeinden = read_gv100ad(args.gv100ad)
    # A Verbandsgemeinde / Amt has several member Gemeinden; a verbandsfreie Gemeinde is its own
    # (single-member) Gemeindeverband and gets no rules of that level.
    members = {}
    for ars in gemeinden:
        members.setdefault(ars[:9], []).append(ars)
    multi = sorted(v for v, m in members.items() if len(m) > 1 and v in verbaende)

    services = sorted(rng.sample(range(10**11, 10**12), args.services))
    services = ["99" + str(s) for s in services]  # 14 digits, like real LeiKa keys
    n = len(services)
    p = args.office_prefix

    offices = []  # (id, name)
    rules = []  # lists of lines, per area
    count = 0

    def add_rules(area, share, office_ids):
        """Rules for a random `share` of the services (a count) in `area`, split among offices."""
        nonlocal count
        picked = rng.sample(range(n), share)
        k = len(office_ids)
        rules.append("".join(f"{services[i]}\t{area}\t{office_ids[j % k]}\n"
                             for j, i in enumerate(picked)))
        count += share

    # Land: a Landesverwaltungsamt catch-all and two Landesämter sharing 60% of the services.
    for land in sorted(lands):
        base = f"{p}land-{land}"
        offices += [(f"{base}-verwaltung", f"Land {lands[land]}, Landesverwaltungsamt"),
                    (f"{base}-amt-1", f"Land {lands[land]}, Landesamt 1"),
                    (f"{base}-amt-2", f"Land {lands[land]}, Landesamt 2")]
        rules.append(f"*\t{land}\t{base}-verwaltung\n")
        count += 1
        add_rules(land, n * 6 // 10, [f"{base}-amt-1", f"{base}-amt-2"])
    # Kreis: a Kreisverwaltung catch-all and four Fachämter sharing 40% of the services.
    fach = ["fahrerlaubnis", "jugendamt", "auslaenderbehoerde", "bauaufsicht"]
    for kreis in sorted(kreise):
        base = f"{p}kreis-{kreis}"
        offices.append((f"{base}-verwaltung", f"{kreise[kreis]}, Kreisverwaltung"))
        offices += [(f"{base}-{f}", f"{kreise[kreis]}, {f}") for f in fach]
        rules.append(f"*\t{kreis}\t{base}-verwaltung\n")
        count += 1
        add_rules(kreis, n * 4 // 10, [f"{base}-{f}" for f in fach])
    # Verbandsgemeinde / Amt: a catch-all and 25% of the services.
    for gv in multi:
        office = f"{p}gv-{gv}"
        offices.append((office, f"{verbaende[gv]}, Verwaltung"))
        rules.append(f"*\t{gv}\t{office}\n")
        count += 1
        add_rules(gv, n // 4, [office])
    # Gemeinde: a Bürgeramt catch-all, and the remaining rules spread evenly.
    gem = sorted(gemeinden)
    for ars in gem:
        offices.append((f"{p}gem-{ars}", f"{gemeinden[ars]}, Bürgeramt"))
    remaining = args.rules - count - len(gem)
    if remaining < 0 or remaining > len(gem) * n:
        sys.exit(f"cannot place {args.rules} rules with {n} services")
    per, extra = divmod(remaining, len(gem))
    for idx, ars in enumerate(gem):
        office = f"{p}gem-{ars}"
        rules.append(f"*\t{ars}\t{office}\n")
        count += 1
        add_rules(ars, per + (1 if idx < extra else 0), [office])
    assert count == args.rules, (count, args.rules)

    os.makedirs(args.out, exist_ok=True)
    tsv = os.path.join(args.out, "responsibilities.tsv")
    with open(tsv, "w", encoding="utf-8") as f:
        f.write("# service\tarea\toffice (generated by benchmarks/national/generate_directory.py)\n")
        for chunk in rules:
            f.write(chunk)
    with open(os.path.join(args.out, "routing.yaml"), "w", encoding="utf-8") as f:
        f.write("# A synthetic national routing directory "
                f"({args.rules} rules, seed {args.seed}); generated, do not edit.\n")
        f.write(f"areas:\n  gv100ad: {yaml_quote(os.path.abspath(args.gv100ad))}\n")
        f.write("offices:\n")
        for oid, name in offices:
            f.write(f"  - {{ id: {oid}, name: {yaml_quote(name)}, "
                    "channels: [{ adapter: transfer }] }\n")
        f.write("responsibilities_file: responsibilities.tsv\n")

    # Queries: mostly Gemeinden, some higher levels; unknown services fall back to "*", unknown
    # areas are rejected.
    kreis_list, gv_list, land_list = sorted(kreise), sorted(verbaende), sorted(lands)
    with open(os.path.join(args.out, "queries.tsv"), "w", encoding="utf-8") as f:
        for _ in range(args.queries):
            r = rng.random()
            if r < 0.80:
                ars = rng.choice(gem)
            elif r < 0.90:
                ars = rng.choice(gv_list)
            elif r < 0.95:
                ars = rng.choice(kreis_list)
            elif r < 0.97:
                ars = rng.choice(land_list)
            else:
                ars = rng.choice(gem)[:9] + "999"  # well-formed, not a Gemeinde
            leika = rng.choice(services) if rng.random() < 0.9 else "99" + str(rng.randrange(10**11, 10**12))
            f.write(f"{ars}\t{leika}\n")
    print(f"{args.out}: {len(offices)} offices, {count} responsibilities "
          f"({len(lands)} Länder, {len(kreise)} Kreise, {len(multi)} Verbandsgemeinden/Ämter, "
          f"{len(gem)} Gemeinden), {n} services, {args.queries} queries")


if __name__ == "__main__":
    main()
