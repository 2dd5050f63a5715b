"""``make run``: the whole system on one machine, in one process.

1. moto in server mode on 127.0.0.1:4566, one request at a time (:mod:`distribu_local.motoserver`);
2. the template's tables, queues, buckets and SES sender created in it (:mod:`distribu_local.template`);
3. the last snapshot restored and the demo company seeded (:mod:`~distribu_local.snapshot`,
   :mod:`~distribu_local.seed`);
4. the pipes, queue triggers and schedules driven (:mod:`~distribu_local.pumps`);
5. every HTTP route of the template served on 127.0.0.1:3000 by its function's real handler, plus
   ``/_local/mail`` (:mod:`~distribu_local.gateway`, :mod:`~distribu_local.mail`);
6. a snapshot every ~30 s when something changed, and on Ctrl-C.

From code (tests)::

    stack = LocalStack(LocalSettings(http_port=0, aws_port=0, state_dir=tmp_path))
    stack.start()        # changes os.environ (AWS_ENDPOINT_URL...): run it in its own process
    ...                  # stack.settings.http_url, stack.demo.api_key
    stack.stop()

or, keeping environments apart, ``python -m distribu_local.stack`` with ``DISTRIBU_LOCAL_*`` variables.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from distribu_local import log
from distribu_local.settings import LocalSettings, point_boto3_at, reset_domain_caches


class LocalStack:
    def __init__(self, settings: LocalSettings | None = None, *, seed: bool = True) -> None:
        from distribu_local.state import StateDir

        self.settings = settings or LocalSettings.from_env()
        self.state = StateDir(self.settings.state_dir)
        self.seed_demo = seed
        self.demo: Any = None
        self.moto_lock = threading.Lock()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._moto: Any = None
        self._http: Any = None
        self._snapshotter: Any = None
        self._changes: Any = None
        self._started = False
        self._saved_environ: dict[str, str] = {}
        self._stream_pumps: list[Any] = []

    # --- start ---------------------------------------------------------------------------------------
    def start(self) -> None:
        import boto3

        from distribu_local.functions import Functions
        from distribu_local.mail import Mailbox
        from distribu_local.motoserver import ChangeTracker, MotoServer
        from distribu_local.pumps import QueuePoller, Scheduler, Stats, StreamPump
        from distribu_local.snapshot import Snapshotter
        from distribu_local.template import Stack

        log.configure()
        settings = self.settings
        self._saved_environ = dict(os.environ)
        self.state.ensure()
        self.stack = Stack(parameters={"SessionSecret": self.state.session_secret()})

        from distribu_local.gateway import HttpServer

        self._http = HttpServer(settings.host, settings.http_port)
        self._http.bind()
        self._changes = ChangeTracker()
        self.mailbox = Mailbox(self.moto_lock, self.stack.account_id, self.stack.region)
        self._moto = MotoServer(settings.host, settings.aws_port, self.moto_lock,
                                after_request=[self._changes.observe, self.mailbox.observe])
        self._moto.start()
        self.aws_endpoint = self._moto.endpoint
        point_boto3_at(self.aws_endpoint)  # before any boto3 client exists
        log.info("aws", f"moto {_moto_version()} listening on {self.aws_endpoint}")

        session = boto3.Session()
        self.stack.create_resources(session)
        os.environ.update(self.stack.function_environment())
        os.environ["DISTRIBU_ENV"] = "local"
        os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
        if settings.log_level:
            os.environ["POWERTOOLS_LOG_LEVEL"] = settings.log_level
        reset_domain_caches()
        log.info("aws", "created the template's tables, queues, buckets and SES sender")

        self.functions = Functions(self.stack)
        for logical_id, error in self.functions.load().items():
            log.error("functions", f"{logical_id} failed to import; its routes and triggers answer with "
                                   f"errors until it is fixed and the stack restarted:\n{error}")

        self._snapshotter = Snapshotter(self.stack, session, self.state.snapshot_path, self.moto_lock)
        restored = self._snapshotter.restore()
        if restored is not None:
            log.info("snapshot", f"restored {restored['items']} item(s), {restored['objects']} object(s) and "
                                 f"{restored['messages']} queued message(s) from {self.state.snapshot_path}")
            self._ensure_read_models()  # before the pumps start: the restored data never passes the stream

        # Fix the stream positions now: restored items must not fire again, the demo's events should.
        self.stats = Stats()
        sqs = session.client("sqs")
        streams = session.client("dynamodbstreams")
        pumps: list[threading.Thread] = []
        by_table: dict[str, list[Any]] = {}
        for pipe in self.stack.pipes():
            source = self.stack.resources[pipe.name]["Properties"]["Source"]["Fn::GetAtt"][0]
            by_table.setdefault(source, []).append(pipe)
        for table, pipes in by_table.items():
            pump = StreamPump(self.stack, table, pipes, streams=streams, sqs=sqs, moto_lock=self.moto_lock,
                              stats=self.stats, stopping=self.stopping, idle_sleep=settings.poll_interval)
            pump.start_at_latest()
            pumps.append(pump)
        self._stream_pumps = list(pumps)

        if self.seed_demo:
            self.demo = self._seed()

        for trigger in self.stack.queue_triggers():
            pumps.append(QueuePoller(self.stack, trigger, self.functions, sqs=sqs, stats=self.stats,
                                     stopping=self.stopping, idle_sleep=settings.poll_interval))
        pumps.append(Scheduler(self.stack, self.stack.schedules(), self.functions, stats=self.stats,
                               stopping=self.stopping, every_seconds=settings.schedule_seconds))
        pumps.append(threading.Thread(target=self._snapshot_loop, name="snapshots", daemon=True))
        for thread in pumps:
            thread.start()
        self._threads = pumps

        self._sqs = sqs
        self._start_http()
        self.state.save_endpoints(self.aws_endpoint, self.http_url)
        self._started = True

    def _seed(self) -> Any:
        from distribu_local import seed

        try:
            return seed.seed(self.state)
        except Exception:
            log.error("seed", "seeding the demo company failed", exc_info=True)
            return None

    def _ensure_read_models(self) -> None:
        from distribu_local import seed

        try:
            rebuilt = seed.ensure_read_models()
        except Exception:
            log.error("seed", "rebuilding the read models failed", exc_info=True)
            return
        if rebuilt:
            log.info("seed", f"rebuilt the read models (catalog index, sales rollups) of {len(rebuilt)} company(ies)")

    def _start_http(self) -> None:
        from distribu_local.gateway import Gateway

        self._http.serve(Gateway(self.stack.routes(), self.functions, self.mailbox, self.status, self._http.port))
        self.http_url = f"http://{self.settings.host}:{self._http.port}"
        log.info("http", f"serving {len(self.stack.routes())} routes on {self.http_url}")

    # --- running ---------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        queues = {}
        for logical_id in self.stack.of_type("AWS::SQS::Queue"):
            try:
                attributes = self._sqs.get_queue_attributes(
                    QueueUrl=self.stack.queue_url(logical_id),
                    AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                    "ApproximateNumberOfMessagesDelayed"])["Attributes"]
            except Exception as failure:
                queues[logical_id] = {"error": str(failure)}
                continue
            queues[logical_id] = {"visible": int(attributes.get("ApproximateNumberOfMessages", 0)),
                                  "inFlight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                                  "delayed": int(attributes.get("ApproximateNumberOfMessagesDelayed", 0))}
        return {**self.stats.snapshot(), "queues": queues}

    def snapshot(self, *, force: bool = False) -> None:
        if self._snapshotter is None or not (self._changes.take() or force):
            return
        started = time.monotonic()
        try:
            counts = self._snapshotter.save()
        except Exception:
            self._changes.mark()  # try again next time
            log.error("snapshot", "could not write the snapshot", exc_info=True)
            return
        log.info("snapshot", f"saved {counts['items']} item(s), {counts['objects']} object(s) and "
                             f"{counts['messages']} queued message(s) ({(time.monotonic() - started) * 1000:.0f} ms)")

    def _drain_streams(self) -> None:
        """Carry the last stream records to their queues, so the snapshot has their messages."""
        for pump in self._stream_pumps:
            try:
                for _ in range(100):
                    if not pump.step():
                        break
            except Exception:
                log.error("pipe", "could not drain the stream before stopping", exc_info=True)

    def _snapshot_loop(self) -> None:
        while not self.stopping.wait(self.settings.snapshot_interval):
            self.snapshot()

    def banner(self) -> str:
        url = self.http_url
        lines = [
            "",
            "Distribu is running locally.",
            "",
            f"  API docs     {url}/api/v1/docs",
            f"  Storefront   {url}/store/demo-distributors",
            f"  Dashboard    {url}/dashboard",
            f"  Emails sent  {url}/_local/mail",
            f"  Status       {url}/_local/status.json",
            f"  AWS (moto)   {self.aws_endpoint}",
            f"  State        {self.state.path}",
            "",
        ]
        if self.demo is not None:
            lines += [
                f"  Staff login  {self.demo.owner_email} / {self.demo.owner_password}   (at {url}/login)",
                f"  Buyer login  {self.demo.buyer_email} / {self.demo.buyer_password}   (at {url}/store/demo-distributors)",
                f"  API key      {self.demo.api_key}",
                "",
                f'  curl -s {url}/api/v1/products -H "Authorization: Bearer {self.demo.api_key}"',
                "",
            ]
        table = self.stack.physical_name(self.stack.of_type("AWS::DynamoDB::Table")[0])
        lines += [
            "  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \\",
            f"    aws --endpoint-url {self.aws_endpoint} dynamodb scan --table-name {table}",
            "",
            "Ctrl-C stops (data is kept in the state folder).",
            "",
        ]
        return "\n".join(lines)

    # --- stop ------------------------------------------------------------------------------------------
    def stop(self) -> None:
        self.stopping.set()
        if self._http is not None:
            self._http.stop()
            self._http = None
        if self._moto is None:
            return
        for thread in self._threads:
            thread.join(timeout=10)
        if self._started:
            self._drain_streams()
            self.snapshot(force=True)
        self._moto.stop()
        self._moto = self._http = None
        # Give the process its environment back (for code that started the stack in-process).
        os.environ.clear()
        os.environ.update(self._saved_environ)
        reset_domain_caches()
        log.info("stack", "stopped")


def _moto_version() -> str:
    from importlib.metadata import version

    return version("moto")


def main() -> None:
    stack = LocalStack()
    stopping = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        if stopping.is_set():  # a second Ctrl-C: leave now
            raise KeyboardInterrupt
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        print(stack.banner(), flush=True)
        while not stopping.wait(1.0):
            pass
        log.info("stack", "stopping: final snapshot")
    except SystemExit:  # werkzeug exits when it cannot bind a port, after saying which
        log.error("stack", "could not start: is another local stack running? Other ports: "
                           "DISTRIBU_LOCAL_HTTP_PORT=... DISTRIBU_LOCAL_AWS_PORT=... make run")
        raise
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
