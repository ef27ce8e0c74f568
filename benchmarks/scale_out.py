"""Scale-out benchmark: how the rate at which hubs drain one RabbitMQ queue grows from one hub
to two (connector mode, docs/operations/scale-out.md). Run by benchmarks/run_scale_out.sh.

For each round (1 hub, then 2 hubs; ROUNDS times, alternating) it fills a durable queue on a private RabbitMQ 3.10 node
with COUNT persistent applications, then starts the hubs (each its own data directory and
case-number instance, one shared transfer directory with `idempotency: application`) and
measures from the first accepted application until the hubs have accepted (committed and
settled at the broker) all of them. Deliveries into the transfer directory run meanwhile, as in
production. Prints applications per second for each round, the medians and their ratio. Stops every process it
started, also on failure.
"""

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import hubtest  # noqa: E402
import rabbitmq  # noqa: E402

QUEUE = "applications"


def fill(broker, count):
    batch = 500
    for start in range(0, count, batch):
        ids = [f"bench-{time.time_ns()}-{i}" for i in range(start, min(count, start + batch))]
        rabbitmq.publish(broker.url, f"/queue/{QUEUE}", [rabbitmq.application(i) for i in ids],
                         timeout=120)


def accepted(hubs):
    total = 0
    for h in hubs:
        v = h.metric("ozghub_applications_accepted_total")
        total += int(v or 0)
    return total


def round_with(n_hubs, broker, count, root):
    fill(broker, count)
    transfer = os.path.join(root, "transfer")
    os.makedirs(transfer)
    hubs = []
    try:
        for i in range(n_hubs):
            workdir = os.path.join(root, f"hub{i}")
            os.makedirs(workdir)
            os.symlink(transfer, os.path.join(workdir, "transfer"))
            config = f"""connectors:
  - {{ name: rabbit, url: "{broker.url}", source: /amq/queue/{QUEUE} }}
case_numbers: {{ instance: {i + 1} }}
"""
            hubs.append(hubtest.Hub(workdir, extra_config=config,
                                    extra_adapters="    sync: filesystem\n"
                                                   "    idempotency: application"))
        # Started together, so the second hub does not join a drain already under way.
        starters = [threading.Thread(target=h.start) for h in hubs]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        started = None
        deadline = time.time() + 600
        while time.time() < deadline:
            done = accepted(hubs)
            now = time.monotonic()
            if started is None and done > 0:
                started, first = now, done
            if done >= count:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"only {accepted(hubs)} of {count} accepted in time")
        elapsed = now - started
        rate = (count - first) / elapsed
        per_hub = [int(h.metric("ozghub_applications_accepted_total") or 0) for h in hubs]
        # The last settlements follow the commit: wait for them, or the next round would get
        # this round's unsettled messages again.
        deadline = time.time() + 60
        while broker.queue_depth(QUEUE) != (0, 0) and time.time() < deadline:
            time.sleep(0.2)
        print(f"{n_hubs} hub(s): {count} applications drained at {rate:,.0f}/s "
              f"({elapsed:.2f} s; per hub {per_hub})", flush=True)
        return rate
    finally:
        for h in hubs:
            h.kill()
        shutil.rmtree(root, ignore_errors=True)  # a round's cases take some 100 MB


def main():
    count = int(os.environ.get("COUNT", "20000"))
    rounds = int(os.environ.get("ROUNDS", "3"))
    root = tempfile.mkdtemp(prefix="ozghub-scale-bench-")
    broker = rabbitmq.Broker()
    try:
        broker.start()
        print(f"RabbitMQ {broker.url}, {count} persistent applications per round, "
              f"{os.cpu_count()} cores", flush=True)
        ones, twos = [], []
        for r in range(rounds):  # alternating, so a busy spell of the machine hits both
            ones.append(round_with(1, broker, count, os.path.join(root, f"r{r}-1")))
            twos.append(round_with(2, broker, count, os.path.join(root, f"r{r}-2")))
        one, two = statistics.median(ones), statistics.median(twos)
        print(f"median of {rounds}: 1 hub {one:,.0f}/s, 2 hubs {two:,.0f}/s, "
              f"ratio 2 hubs / 1 hub: {two / one:.2f} "
              f"(per round: {', '.join(f'{b / a:.2f}' for a, b in zip(ones, twos))})")
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
