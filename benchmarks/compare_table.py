"""The table of benchmarks/compare_rabbitmq.sh: medians per size and server of its `run` lines,
then the ratios ozg-hub/RabbitMQ.

    python3 benchmarks/compare_table.py RUNS_FILE

accept ratio: hub-accept accepted/s over rabbitmq accepted/s; e2e ratio: hub-e2e delivered/s
over rabbitmq accepted/s (the hub delivering, encrypted, against RabbitMQ only enqueuing).
"""
import statistics
import sys

SERVERS = ("rabbitmq", "hub-accept", "hub-e2e")
COLUMNS = (  # (key in the run line, heading, format)
    ("accepted_per_s", "accepted/s", "{:.0f}"),
    ("delivered_per_s", "delivered/s", "{:.0f}"),
    ("p50_ms", "p50_ms", "{:.1f}"),
    ("p99_ms", "p99_ms", "{:.1f}"),
    ("cpu_s_per_1000", "cpu_s/1000", "{:.3f}"),
    ("peak_rss_mib", "peak_rss_MiB", "{:.0f}"),
)


def read_runs(path):
    runs = {}  # (size, server) -> [ {key: float} ]
    sizes = []
    with open(path) as f:
        for line in f:
            fields = dict(kv.split("=", 1) for kv in line.split()[1:])
            size, server = fields["size"], fields["server"]
            if size not in sizes:
                sizes.append(size)
            values = {k: float(v) for k, v in fields.items() if k not in ("size", "server") and v}
            runs.setdefault((size, server), []).append(values)
    return sizes, runs


def median(runs, key):
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else None


def main():
    sizes, runs = read_runs(sys.argv[1])
    n = max((len(v) for v in runs.values()), default=0)
    print(f"\nmedians of {n} run(s) per size and server")
    print(f"{'size':<8} {'server':<11}" + "".join(f" {h:>12}" for _, h, _ in COLUMNS))
    for size in sizes:
        for server in SERVERS:
            r = runs.get((size, server), [])
            cells = []
            for key, _, fmt in COLUMNS:
                m = median(r, key)
                cells.append(fmt.format(m) if m is not None else "-")
            print(f"{size:<8} {server:<11}" + "".join(f" {c:>12}" for c in cells))
    print("\nratios ozg-hub/RabbitMQ (medians; RabbitMQ's accepted/s is the base)")
    print(f"{'size':<8} {'accept':>8} {'e2e':>8}")
    for size in sizes:
        base = median(runs.get((size, "rabbitmq"), []), "accepted_per_s")
        accept = median(runs.get((size, "hub-accept"), []), "accepted_per_s")
        e2e = median(runs.get((size, "hub-e2e"), []), "delivered_per_s")
        cells = [f"{v / base:.2f}" if base and v is not None else "-" for v in (accept, e2e)]
        print(f"{size:<8} {cells[0]:>8} {cells[1]:>8}")


if __name__ == "__main__":
    main()
