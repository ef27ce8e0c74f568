"""Crash harness: what the hub accepted, it delivers, across kill -9 at any moment.

A portal (a real AMQP client, `Portal`) sends applications with unique message ids to three
offices of the demo routing and records what the hub accepted (and the case number from each
receipt). Each cycle starts the daemon, loads it and ends it with SIGKILL: either at a random
moment, or through a fault point (broker/common/fault_point.hpp, OZGHUB_FAULT=<point>:<nth>)
at a stage transition of the data path. After a kill the portal reconnects to the restarted hub
and resends every message it has no outcome for, under the same message id (the idempotency key),
as a portal must. One office's transfer folder is blocked in some cycles, so deliveries are
retried and dead-lettered too.

After the last cycle the hub starts normally, the portal resends what is still open, the blocked
folder is freed, the dead letters are replayed (ozg-hubctl), and once the backlog is 0 the hub
stops cleanly. `check()` then compares what the portal saw accepted with what arrived in the
transfer directory (<root>/<office>/<case_number>/manifest.json) and counts, per destination
folder: lost, duplicated (one message in two case folders), unexpected (a folder for a message
the portal never saw accepted, or in the wrong office), receipt mismatches (a folder whose case
number is not the receipt's) and orphaned temporary folders (`.tmp-*`).

Used by tests/integration/test_crash.py (a short run in CI) and benchmarks/run_crash.sh (long
runs: `python3 crashharness.py --cycles N`). Run under /usr/bin/python3.
"""

import argparse
import collections
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from proton.handlers import MessagingHandler
from proton.reactor import Container

from hubtest import MOECKERN, PASSPORT, SOURCE_DIR, Hub, example_antrag
from ozghub_client import application_message

# (area, service) -> the office the demo routing sends it to. Möckern's office has a certificate
# (its files are CMS-encrypted); the Land office's folder is the one that gets blocked.
DESTINATIONS = [
    ("150860015015", "99050012104000", "jerichower-land-kreisverwaltung"),
    (MOECKERN, PASSPORT, "moeckern-buergeramt"),
    ("150030000000", "99050012104000", "sachsen-anhalt-landesverwaltungsamt"),
]
BLOCKABLE_OFFICE = "sachsen-anhalt-landesverwaltungsamt"


def fault_points():
    """Every fault point, read from their one list in broker/common/fault_point.cpp."""
    with open(os.path.join(SOURCE_DIR, "broker", "common", "fault_point.cpp"),
              encoding="utf-8") as f:
        source = f.read()
    table = re.search(r"kNames = \{(.*?)\};", source, re.S)
    return re.findall(r'"([a-z_.]+)"', table.group(1))


FAULT_POINTS = fault_points()
# Points that only a failing delivery reaches: their cycles block the office folder.
NEEDS_BLOCKED = {"delivery.before_record_retry", "delivery.before_dead_letter"}

# Few attempts and short backoff: blocked deliveries become dead letters within a cycle.
RETRY = "{ max_attempts: 3, initial_backoff_ms: 50, max_backoff_ms: 200 }"


class Portal:
    """A portal: unique message ids, resends everything without an outcome after a reconnect."""

    def __init__(self, attachment_every=4):
        self.attachment_every = attachment_every
        self.xml = example_antrag()
        self.office = {}  # message_id -> the office it must arrive at
        self.open = collections.OrderedDict()  # message_id -> None: no outcome seen yet
        self.accepted = set()
        self.receipt_case = {}  # message_id -> case number from the receipt
        self.rejected = {}  # message_id -> condition (never expected: every message is valid)
        self.sends = collections.Counter()
        self.created = 0

    def add(self, count):
        for _ in range(count):
            n = self.created
            self.created += 1
            message_id = f"crash-{n:06d}"
            area, service, office = DESTINATIONS[n % len(DESTINATIONS)]
            self.office[message_id] = (area, service, office)
            self.open[message_id] = None

    def message(self, message_id):
        area, service, _ = self.office[message_id]
        attachments = None
        if int(message_id.rsplit("-", 1)[1]) % self.attachment_every == 0:
            block = hashlib.sha256(message_id.encode()).digest()
            attachments = [("anlage.pdf", "application/pdf", block * 1024)]  # 32 KiB
        return application_message(self.xml, area, service, message_id=message_id,
                                   attachments=attachments)

    def session(self, url, timeout):
        """One connection: sends every open message; returns when all are settled (and their
        receipts are in), the connection is lost, or `timeout` seconds have passed."""
        handler = _Session(self, url, timeout)
        Container(handler).run()
        return handler

    def resent_and_accepted(self):
        return sum(1 for m in self.accepted if self.sends[m] > 1)


class _Session(MessagingHandler):
    def __init__(self, portal, url, timeout):
        super().__init__(auto_accept=True)
        self.portal = portal
        self.url = url
        self.timeout = timeout
        self.queue = collections.deque(portal.open)
        self.in_flight = {}
        self.awaiting_receipt = set()
        self.sender = None
        self.receiver = None
        self.reply_to = None
        self.lost = False
        self.timed_out = False

    def on_start(self, event):
        self.timer = event.container.schedule(self.timeout, self)
        self.conn = event.container.connect(self.url, reconnect=False)
        self.receiver = event.container.create_receiver(self.conn, None, dynamic=True)

    def on_timer_task(self, event):
        self.timed_out = True
        self.conn.close()

    def on_link_opened(self, event):
        if event.receiver == self.receiver and self.sender is None:
            self.reply_to = event.receiver.remote_source.address
            self.sender = event.container.create_sender(self.conn, "applications")

    def on_sendable(self, event):
        while event.sender.credit > 0 and self.queue:
            message_id = self.queue.popleft()
            msg = self.portal.message(message_id)
            msg.reply_to = self.reply_to
            self.in_flight[event.sender.send(msg)] = message_id
            self.portal.sends[message_id] += 1
        self._maybe_done()

    def _outcome(self, event):
        return self.in_flight.pop(event.delivery, None)

    def on_accepted(self, event):
        message_id = self._outcome(event)
        if message_id is not None:
            self.portal.accepted.add(message_id)
            self.portal.open.pop(message_id, None)
            if message_id not in self.portal.receipt_case:
                self.awaiting_receipt.add(message_id)
        self._maybe_done()

    def on_rejected(self, event):
        message_id = self._outcome(event)
        if message_id is not None:
            cond = event.delivery.remote.condition
            self.portal.rejected[message_id] = cond.name if cond else "rejected"
            self.portal.open.pop(message_id, None)
        self._maybe_done()

    def on_released(self, event):
        self._outcome(event)  # stays open: resent in the next session
        self._maybe_done()

    def on_modified(self, event):
        self._outcome(event)
        self._maybe_done()

    def on_message(self, event):
        m = event.message
        message_id = str(m.correlation_id)
        case_number = m.properties.get("case_number")
        previous = self.portal.receipt_case.setdefault(message_id, case_number)
        if previous != case_number:  # a resend answered with another case number
            self.portal.receipt_case[message_id] = f"{previous}|{case_number}"
        self.awaiting_receipt.discard(message_id)
        self._maybe_done()

    def _maybe_done(self):
        if self.queue or self.in_flight or self.awaiting_receipt:
            return
        self.timer.cancel()
        self.conn.close()

    def _gone(self):
        self.lost = True
        self.timer.cancel()

    def on_transport_error(self, event):
        self._gone()

    def on_disconnected(self, event):
        self._gone()


class CrashRun:
    """Cycles of load and kill -9 against one hub and its data directory."""

    def __init__(self, workdir, seed, per_cycle=40, log=print):
        self.rng = random.Random(seed)
        self.hub = Hub(workdir, retry=RETRY)
        self.portal = Portal()
        self.per_cycle = per_cycle
        self.log = log
        self.fired = collections.Counter()  # fault point -> cycles it killed the hub in
        self.random_kills = 0
        self.not_reached = 0  # fault cycles ended by a kill instead (nth beyond the load)
        self.cycles = 0
        self.blocked = False
        self.dead_letters_left = 0

    # --- the blocked office folder: a file where the folder should be, so deliveries fail ---
    def _office_dir(self):
        return os.path.join(self.hub.transfer, BLOCKABLE_OFFICE)

    def _parked_dir(self):
        return os.path.join(self.hub.transfer, ".parked-" + BLOCKABLE_OFFICE)

    def block(self, on):
        """Only while the hub is down."""
        if on == self.blocked:
            return
        os.makedirs(self.hub.transfer, exist_ok=True)
        office, parked = self._office_dir(), self._parked_dir()
        if on:
            if os.path.isdir(office):
                os.rename(office, parked)
            with open(office, "w") as f:
                f.write("blocked by the crash harness")
        else:
            os.remove(office)
            if os.path.isdir(parked):
                os.rename(parked, office)
        self.blocked = on

    # --- cycles ---
    def _start(self, env=None):
        """Starts the hub; False when an armed fault point killed it before it listened."""
        try:
            self.hub.start(env=env)
            return True
        except RuntimeError:
            if self.hub.proc.returncode == -9 and self.hub.events("fault.injected"):
                return False
            raise

    def _session_thread(self, timeout):
        t = threading.Thread(target=self.portal.session, args=(self.hub.url, timeout),
                             daemon=True)
        t.start()
        return t

    def cycle(self, point=None, nth=1):
        """One cycle: start, load, SIGKILL (at random, or by `point` at its `nth` hit)."""
        self.cycles += 1
        self.block(point in NEEDS_BLOCKED or (point is None and self.rng.random() < 0.3))
        self.portal.add(self.per_cycle)
        env = {"OZGHUB_FAULT": f"{point}:{nth}"} if point else None
        if self._start(env):
            session = self._session_thread(timeout=30)
            if point is None:
                time.sleep(self.rng.uniform(0.05, 1.5))
                self.hub.kill()
                self.random_kills += 1
            else:
                # Delivery points are reached soon after the portal's last acceptance; a point
                # not reached 5 s later will not be (its nth hit is beyond this cycle's load).
                session.join(60)
                try:
                    self.hub.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.hub.kill()
            session.join(60)
            if session.is_alive():
                raise AssertionError("the portal did not notice the hub's end within 60 s")
        self.hub.kill()
        if point is not None:
            if self.hub.proc.returncode == -9 and self.hub.events("fault.injected"):
                self.fired[point] += 1
            else:
                self.not_reached += 1
                self.log(f"cycle {self.cycles}: fault point {point}:{nth} was not reached")
        self.log(f"cycle {self.cycles}: {point + ':' + str(nth) if point else 'random kill'}; "
                 f"accepted so far {len(self.portal.accepted)}, open {len(self.portal.open)}")

    def finish(self, timeout=120):
        """Starts the hub for good, resends what is open, frees the blocked folder, replays the
        dead letters and waits until everything is delivered; stops the hub cleanly."""
        self.block(False)
        self.hub.start()
        try:
            deadline = time.time() + timeout
            while self.portal.open and time.time() < deadline:
                self.portal.session(self.hub.url, timeout=max(1, deadline - time.time()))
                if self.hub.proc.poll() is not None:
                    raise AssertionError(f"the hub ended ({self.hub.proc.returncode}) in the "
                                         "final run:\n" + "".join(self.hub.log[-20:]))
            if self.portal.open:
                raise AssertionError(f"{len(self.portal.open)} messages still without an outcome")
            # Done when nothing is pending any more: all delivered, or (what check() then
            # reports as lost) the hub idle for 5 s with folders missing. Dead letters are
            # replayed up to 3 times; any left are reported.
            idle_since = None
            replays = 0
            while time.time() < deadline:
                dead = self.hub.metric("ozghub_dead_letters")
                if dead and replays < 3:
                    replays += 1
                    replay = self.hub.ctl("deadletters", "replay", "--all")
                    if replay.returncode != 0:
                        self.log(f"deadletters replay --all: {replay.stdout}{replay.stderr}")
                    idle_since = None
                elif (self.hub.metric("ozghub_delivery_backlog", adapter="transfer") == 0
                      and self.hub.metric("ozghub_deliveries_in_flight", adapter="transfer") == 0):
                    if not dead and self._delivered_count() >= len(self.portal.accepted):
                        break
                    idle_since = idle_since or time.time()
                    if time.time() - idle_since > 5:
                        break
                else:
                    idle_since = None
                time.sleep(0.2)
            else:
                raise AssertionError(
                    "the backlog did not drain in time: backlog "
                    f"{self.hub.metric('ozghub_delivery_backlog', adapter='transfer')}, "
                    f"{self._delivered_count()} case folders for {len(self.portal.accepted)} "
                    "accepted messages")
            self.dead_letters_left = int(self.hub.metric("ozghub_dead_letters") or 0)
        finally:
            self.hub.stop()

    def _delivered_count(self):
        return sum(len(self.hub.case_dirs(office)) for _, _, office in DESTINATIONS)

    # --- the check ---
    def check(self):
        """Per destination folder: accepted, delivered, lost, duplicated, unexpected,
        receipt_mismatch, orphaned_temp. Plus totals over all folders."""
        portal = self.portal
        seen = collections.defaultdict(list)  # message_id -> [(office, case_number)]
        orphans = collections.Counter()
        offices = sorted({o for _, _, o in DESTINATIONS} | set(os.listdir(self.hub.transfer)))
        for office in offices:
            root = os.path.join(self.hub.transfer, office)
            if office.startswith(".") or not os.path.isdir(root):
                continue
            for entry in os.listdir(root):
                if entry.startswith(".tmp-"):
                    orphans[office] += 1
                    continue
                with open(os.path.join(root, entry, "manifest.json"), encoding="utf-8") as f:
                    manifest = json.load(f)
                if manifest["case_number"] != entry or manifest["office_id"] != office:
                    raise AssertionError(f"{office}/{entry}: manifest does not match its folder")
                seen[manifest["message_id"]].append((office, entry))
        report = {}
        for office in offices:
            if office.startswith(".") or not os.path.isdir(os.path.join(self.hub.transfer,
                                                                        office)):
                continue
            expected = {m for m in portal.accepted if portal.office[m][2] == office}
            here = {m: [c for o, c in places if o == office] for m, places in seen.items()}
            here = {m: cases for m, cases in here.items() if cases}
            report[office] = {
                "accepted": len(expected),
                "delivered": sum(len(c) for c in here.values()),
                "lost": len(expected - set(here)),
                "duplicated": sum(len(c) - 1 for c in here.values()),
                "unexpected": len(set(here) - expected),
                "receipt_mismatch": sum(
                    1 for m, cases in here.items()
                    if m in portal.receipt_case and portal.receipt_case[m] not in cases),
                "orphaned_temp": orphans[office],
            }
        totals = collections.Counter()
        for counts in report.values():
            totals.update(counts)
        summary = {
            "cycles": self.cycles,
            "random_kills": self.random_kills,
            "fault_kills": sum(self.fired.values()),
            "fault_not_reached": self.not_reached,
            "messages": portal.created,
            "accepted": len(portal.accepted),
            "rejected": len(portal.rejected),
            "resent_then_accepted": portal.resent_and_accepted(),
            "receipts": len(portal.receipt_case),
            "dead_letters_left": self.dead_letters_left,
            **{k: totals[k] for k in ("delivered", "lost", "duplicated", "unexpected",
                                      "receipt_mismatch", "orphaned_temp")},
        }
        return report, summary


# Points reached once per commit batch, not per message: a cycle's load may be one batch.
PER_BATCH = {"commit.before", "commit.after_sync"}


def schedule(rng, cycles, max_nth=3):
    """The cycles' kinds: every fault point once (at a hit every cycle reaches), the rest
    alternating random kills and randomly chosen fault points (random kills first); shuffled."""
    def nth(point, most):
        return rng.randint(1, 1 if point in PER_BATCH else most)

    plan = [(p, nth(p, min(max_nth, 10))) for p in FAULT_POINTS]
    for i in range(cycles - len(plan)):
        point = rng.choice(FAULT_POINTS)
        plan.append((None, 0) if i % 2 == 0 else (point, nth(point, max_nth)))
    rng.shuffle(plan)
    return plan


def run(cycles, seed, workdir=None, per_cycle=40, max_nth=3, log=print):
    """Runs `cycles` cycles and the final check; returns (run, per-office report, summary)."""
    own = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="ozghub-crash-")
    try:
        r = CrashRun(workdir, seed, per_cycle=per_cycle, log=log)
        for point, nth in schedule(r.rng, cycles, max_nth=max_nth):
            r.cycle(point, nth)
        r.finish()
        report, summary = r.check()
        return r, report, summary
    finally:
        if own:
            shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--per-cycle", type=int, default=40, help="new messages per cycle")
    parser.add_argument("--max-nth", type=int, default=20,
                        help="a fault point kills at a hit chosen from 1..N")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    print(f"seed {seed}")
    r, report, summary = run(args.cycles, seed, per_cycle=args.per_cycle,
                             max_nth=args.max_nth)
    for office, counts in sorted(report.items()):
        print(f"{office}: " + " ".join(f"{k}={v}" for k, v in counts.items()))
    print("fault points fired: " + " ".join(f"{p}={r.fired[p]}" for p in FAULT_POINTS))
    print("summary: " + json.dumps(summary))
    ok = not (summary["lost"] or summary["duplicated"] or summary["unexpected"]
              or summary["receipt_mismatch"] or summary["orphaned_temp"] or summary["rejected"]
              or summary["dead_letters_left"])
    print("RESULT: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
