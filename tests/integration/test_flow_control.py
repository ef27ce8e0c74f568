"""Flow control: the hub grants link credit only as its pipeline has room, so a fast sender
cannot make it buffer without bound."""

import multiprocessing
import os
import subprocess
import unittest

from proton.handlers import MessagingHandler
from proton.reactor import Container

from hubtest import SOURCE_DIR, HubTestCase, example_antrag
from ozghub_client import application_message

BURG = "150860015015"
GEWERBE = "99050012104000"
WINDOW = 4
MAX_INFLIGHT = 8


class CreditWatcher(MessagingHandler):
    """Sends as fast as credit allows and records the most credit and the most unsettled
    messages it ever had."""

    def __init__(self, url, messages):
        super().__init__()
        self.url = url
        self.messages = messages
        self.sent = 0
        self.settled = 0
        self.accepted = 0
        self.max_credit = 0
        self.max_unsettled = 0

    def on_start(self, event):
        self.timer = event.container.schedule(60, self)
        self.conn = event.container.connect(self.url)
        event.container.create_sender(self.conn, "applications")

    def on_timer_task(self, event):
        self.conn.close()

    def on_link_flow(self, event):
        if event.sender:
            self.max_credit = max(self.max_credit, event.sender.credit)

    def on_sendable(self, event):
        self.max_credit = max(self.max_credit, event.sender.credit)
        while event.sender.credit > 0 and self.sent < len(self.messages):
            event.sender.send(self.messages[self.sent])
            self.sent += 1
            self.max_unsettled = max(self.max_unsettled, self.sent - self.settled)

    def on_settled(self, event):
        self.settled += 1
        if self.settled == len(self.messages):
            self.timer.cancel()
            self.conn.close()

    def on_accepted(self, event):
        self.accepted += 1


class FlowControl(HubTestCase):
    extra_config = f"limits: {{ credit_window: {WINDOW}, max_inflight: {MAX_INFLIGHT} }}"

    def test_credit_never_exceeds_the_window(self):
        xml = example_antrag()
        msgs = [application_message(xml, BURG, GEWERBE, message_id=f"flow-{i}")
                for i in range(200)]
        watcher = CreditWatcher(self.hub.url, msgs)
        Container(watcher).run()
        self.assertEqual(watcher.accepted, 200)
        self.assertLessEqual(watcher.max_credit, WINDOW)
        self.assertGreater(watcher.max_credit, 0)
        # Proton writes a link's flow frame before the dispositions of the same pass, so the
        # sender may see new credit just before it sees the settlements that made room for it:
        # from its side at most two windows are unsettled; the hub itself holds at most one.
        self.assertLessEqual(watcher.max_unsettled, 2 * WINDOW)

    def test_idle_senders_holding_credit_do_not_starve_a_busy_one(self):
        # Two senders send a little and stay connected, each keeping a window of unused credit:
        # together that is the whole max_inflight budget. A third sender must still get all of
        # its applications through.
        ctx = multiprocessing.get_context("fork")
        done = ctx.Queue()
        idle = []
        for which in range(2):
            p = ctx.Process(target=run_idle_sender, args=(self.hub.url, which, done))
            p.start()
            idle.append(p)
            self.assertEqual(done.get(timeout=60), (which, 10))
        try:
            xml = example_antrag()
            busy = CreditWatcher(self.hub.url, [
                application_message(xml, BURG, GEWERBE, message_id=f"flow-busy-{i}")
                for i in range(60)])
            Container(busy).run()
            self.assertEqual(busy.accepted, 60)
            self.assertLessEqual(busy.max_credit, WINDOW)
        finally:
            for p in idle:
                p.terminate()
                p.join(10)


    def test_concurrent_senders_all_finish(self):
        # Found with this test: credit granted to one connection from another connection's (or a
        # timer's) context stayed unsent until something else woke that connection, and senders
        # stalled. Three C++ senders at once, ten rounds, each must finish within its deadline.
        loadgen = os.environ.get("OZGHUB_LOADGEN") or os.path.join(
            SOURCE_DIR, "build", "benchmarks", "ozg-hub-loadgen")
        if not os.path.exists(loadgen):
            self.skipTest("ozg-hub-loadgen is not built (OZGHUB_BUILD_BENCHMARKS=OFF)")
        template = os.path.join(SOURCE_DIR, "schemas", "ozg-antrag", "example-antrag.xml")
        for round_ in range(10):
            procs = [subprocess.Popen(
                [loadgen, "--url", self.hub.url, "--count", str(n), "--window", str(WINDOW),
                 "--size", "2000", "--template", template, "--area", BURG, "--service", GEWERBE],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for n in (10, 10, 60)]
            for n, p in zip((10, 10, 60), procs):
                try:
                    out, _ = p.communicate(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.communicate()
                    self.fail(f"round {round_}: a sender of {n} stalled")
                self.assertIn(f"accepted={n} ", out)


class IdleSender(CreditWatcher):
    """Sends its messages, reports, and then keeps the connection (and its credit) open."""

    def __init__(self, url, messages, which, done):
        super().__init__(url, messages)
        self.which = which
        self.done = done

    def on_settled(self, event):
        self.settled += 1
        if self.settled == len(self.messages):
            self.done.put((self.which, self.accepted))


def run_idle_sender(url, which, done):
    xml = example_antrag()
    Container(IdleSender(url, [application_message(xml, BURG, GEWERBE,
                                                   message_id=f"flow-idle-{which}-{i}")
                               for i in range(10)], which, done)).run()


if __name__ == "__main__":
    unittest.main()
