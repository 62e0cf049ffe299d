"""Trim cells and drop exact duplicate rows of a CSV file."""

import csv
import sys

source, target = sys.argv[1], sys.argv[2]
seen = set()
with open(source, newline="") as src, open(target, "w", newline="") as dst:
    writer = csv.writer(dst)
    for row in csv.reader(src):
        cleaned = tuple(cell.strip() for cell in row)
        if cleaned not in seen:
            seen.add(cleaned)
            writer.writerow(cleaned)
print(f"kept {len(seen)} unique rows")
