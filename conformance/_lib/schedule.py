"""Concurrency inside one run: check bodies run ahead on a thread pool; pytest reports them in order.

pytest's runner is not thread-safe (its SetupState, the reporting hooks, allure-pytest's listener,
JUnit), so it keeps its sequential protocol for every case: setup, call, teardown and their reports,
in collection order, on the main thread. Only the check bodies, which spend their time waiting on
the network, run ahead: each case that may (see `Schedule.plan`) is submitted to a pool of N threads
(`--concurrency N`; a thread sends one request at a time, so at most N requests are in flight); what
its body records (its exchanges, its Allure attachments) is captured instead of attached; and when
pytest reaches the case, its call replays those records into the case's own report, in order, and
ends exactly as the body ended (returned, or raised the same exception). Verdicts, skips and their
kinds, the curl line of a failure, the summary, JUnit and Allure therefore come from the same code
as in a sequential run.

A check declared `alone` (`@check(..., alone=True)`: it changes state other cases read, such as the
shared session or the instance's rate limit) is a barrier: it starts when every case before it has
finished (pytest may still be reporting them) and nothing after it starts before it has finished,
as in a sequential run. A case that asks for a fixture that is not one of the plugin's (`FIXTURES`)
is a barrier too, and pytest runs it itself, on its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import allure
import pytest

if TYPE_CHECKING:
    from conformance._lib.http import Exchange, Http
    from conformance._lib.outcomes import RunState

__all__ = ["DEFAULT", "FIXTURES", "MAXIMUM", "Schedule", "capture_exchange", "fan_out"]

DEFAULT = 4  # requests in flight per run: gentle on a production instance
MAXIMUM = 8  # the reference instance serves with 8 threads; an LMS under load should see no more
# The plugin's fixtures, which a case running ahead gets from `Schedule` (the same objects).
FIXTURES = ("profile", "http", "tokens", "jwks", "signin", "fake")

_local = threading.local()  # .events: the records of the case this thread runs ahead, if any
_RUNNING: dict[str, Schedule] = {}  # the schedule of this process's run, while it runs

T = TypeVar("T")
R = TypeVar("R")


def _defer_outcome(origin: str, problem: str | None) -> bool:
    """The HTTP client's breaker hook: on a thread running a case ahead, keep whether the request
    was answered, for the replay to count in order (True)."""
    events: list[tuple[str, Any]] | None = getattr(_local, "events", None)
    if events is None:
        return False
    events.append(("outcome", (origin, problem)))
    return True


def _replay(events: list[tuple[str, Any]], emit: Callable[[Exchange], None] | None, http: Http) -> None:
    """Record a case's captured events on this thread, in order; answered and unanswered requests
    go to the circuit breaker as they would have one at a time (it raises CircuitOpen where it opens,
    and the rest of that case's records are dropped, as its body would have stopped there)."""
    for kind, payload in events:
        if kind == "exchange":
            if emit is not None:
                emit(payload)
        elif kind == "outcome":
            origin, problem = payload
            if problem is None:
                http.answered(origin)
            else:
                http.unanswered(origin, problem)
        elif kind == "attach":
            allure.attach(*payload[0], **payload[1])
        else:
            allure.attach.file(*payload[0], **payload[1])


def capture_exchange(exchange: Exchange) -> bool:
    """On a thread running a case ahead: keep the exchange for the case's replay (True)."""
    events: list[tuple[str, Any]] | None = getattr(_local, "events", None)
    if events is None:
        return False
    events.append(("exchange", exchange))
    return True


class _Attach:
    """`allure.attach` while a schedule runs: captured on a thread running a case ahead, attached as
    usual everywhere else (the replay on the main thread, the sequential cases)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        events = getattr(_local, "events", None)
        if events is None:
            self.real(*args, **kwargs)
        else:
            events.append(("attach", (args, kwargs)))

    def file(self, *args: Any, **kwargs: Any) -> None:
        events = getattr(_local, "events", None)
        if events is None:
            self.real.file(*args, **kwargs)
        else:
            events.append(("attach_file", (args, kwargs)))


@dataclass
class _Result:
    events: list[tuple[str, Any]] = field(default_factory=list)
    error: BaseException | None = None
    traceback: TracebackType | None = None
    setup_failed: bool = False  # a fixture could not be made ahead: pytest runs the case itself


class Schedule:
    """Runs the bodies of a session's cases ahead, `concurrency` at a time (a dispatcher thread
    submits them), and replays each when pytest calls it (`call`). `finished` tells it pytest is
    done with a case it ran itself."""

    def __init__(
        self,
        items: Iterable[pytest.Item],
        concurrency: int,
        state: RunState,
        signin: Callable[[], Any],
        stopped: Callable[[], bool],
    ) -> None:
        self.state = state
        self._signin = signin
        self._stopped = stopped
        self.concurrency = concurrency
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="oauth-check")
        # One slot per request in flight: a thread holds one while it runs a case or part of one
        # (fan_out), and sends one request at a time.
        self.slots = threading.Semaphore(concurrency)
        self._futures: dict[str, Future[_Result]] = {}
        self._lock = threading.Lock()
        self._jwks_lock = threading.Lock()
        self._jwks_failed = False
        self._items = [(item, self.plan(item)) for item in items]
        self._decided: set[str] = set()  # the cases the dispatcher has passed (submitted or not)
        self._finished: set[str] = set()  # the cases pytest ran itself and is done with
        self._over = False  # the dispatcher has passed every case, or stopped
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._real_attach = allure.attach
        allure.attach = _Attach(self._real_attach)  # type: ignore[assignment]
        _RUNNING["schedule"] = self
        state.http.defer_outcome = _defer_outcome
        self._dispatcher = threading.Thread(target=self._dispatch, name="oauth-schedule", daemon=True)
        self._dispatcher.start()

    @staticmethod
    def plan(item: pytest.Item) -> str:
        """ "ahead" (its body may run on the pool beside others), "alone-ahead" (on the pool, with
        nothing else in flight), "alone" (pytest runs it, nothing else in flight) or "none" (it
        does not run: skipped before its body)."""
        if item.get_closest_marker("skip") is not None:
            return "none"
        mark = item.get_closest_marker("oauth_check")
        meta = mark.args[0] if mark else None
        if meta is None or not isinstance(item, pytest.Function):
            return "alone"
        if item.get_closest_marker("skipif") is not None:
            return "alone"  # evaluated by pytest's own skipping plugin: leave it to pytest
        params = getattr(item, "callspec", None)
        params = params.params if params is not None else {}
        definitions = item._fixtureinfo.name2fixturedefs
        for name in item.fixturenames:  # its arguments and what their fixtures ask for
            if name in params or name == "request":
                continue
            defs = definitions.get(name)
            func = getattr(defs[-1], "func", None) if defs else None
            if name not in FIXTURES or getattr(func, "__module__", "") != "conformance.plugin":
                return "alone"  # a fixture of someone else's (a conftest): pytest makes it
        return "alone-ahead" if meta.alone else "ahead"

    # The dispatcher ------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Submit the cases, each run of "ahead" cases at once (interleaved), and at a barrier wait
        until everything submitted has finished (not until pytest reported it), then run the
        barrier case with nothing else in flight."""
        pending: list[Future[_Result]] = []
        batch: list[pytest.Function] = []

        def submit(items: list[pytest.Function]) -> None:
            with self._changed:
                for item in items:
                    future = self._pool.submit(self._run, item)
                    self._futures[item.nodeid] = future
                    self._decided.add(item.nodeid)
                    pending.append(future)
                self._changed.notify_all()

        def drain() -> bool:
            """Wait for what was submitted; False when the run stopped meanwhile."""
            while pending and not self._halted():
                done, _ = wait_for(pending, timeout=0.2)
                pending[:] = [f for f in pending if f not in done]
            return not self._halted()

        try:
            for item, kind in self._items:
                if self._halted():
                    break
                if kind == "ahead" and isinstance(item, pytest.Function):
                    batch.append(item)
                    continue
                if batch:
                    submit(_interleaved(batch))
                    batch.clear()
                if kind == "none":
                    with self._changed:
                        self._decided.add(item.nodeid)
                    continue
                if not drain():
                    break
                if kind == "alone-ahead" and isinstance(item, pytest.Function):
                    submit([item])
                    if not drain():
                        break
                    continue
                with self._changed:  # pytest runs it: wait until it has
                    self._decided.add(item.nodeid)
                    self._changed.notify_all()
                    while item.nodeid not in self._finished and not self._halted():
                        self._changed.wait(0.2)
            if batch and not self._halted():
                submit(_interleaved(batch))
        except RuntimeError:
            pass  # the pool was shut down (the session ended): nothing more to submit
        finally:
            with self._changed:
                self._over = True
                self._changed.notify_all()

    def _halted(self) -> bool:
        return self._stop.is_set() or self._stopped()

    # The main thread -----------------------------------------------------------------------------

    def finished(self, item: pytest.Item) -> None:
        """pytest is done with `item` (reported, torn down)."""
        with self._changed:
            self._finished.add(item.nodeid)
            self._changed.notify_all()

    def call(self, item: pytest.Item, replay: Callable[[Exchange], None]) -> bool | None:
        """pytest's call of a case: None when the case did not run ahead (pytest calls it), else
        its records are replayed here and it ends as its body did."""
        with self._changed:
            while item.nodeid not in self._decided and not self._over:
                self._changed.wait()
            future = self._futures.pop(item.nodeid, None)
        if future is None:
            return None
        result = future.result()
        if result.setup_failed:
            return None  # pytest made the fixtures itself (setup passed): it calls the body too
        _replay(result.events, replay, self.state.http)
        if result.error is not None:
            raise result.error.with_traceback(result.traceback)
        return True

    def close(self, wait: bool = True) -> None:
        """The session ends (or stopped): cases not started are dropped, running ones finish (each
        request is bounded by its deadline); an interrupted run does not wait for them."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if wait:
            self._dispatcher.join()
        _RUNNING.pop("schedule", None)
        self.state.http.defer_outcome = None
        allure.attach = self._real_attach

    # The pool's threads --------------------------------------------------------------------------

    def _run(self, item: pytest.Function) -> _Result:
        result = _Result()
        if self._stopped():
            result.setup_failed = True
            return result
        self.slots.acquire()
        _local.holds_slot = True
        _local.events = result.events
        try:
            try:
                kwargs = self._fixtures(item)
            except Exception:
                result.events.clear()
                result.setup_failed = True
                return result
            try:
                item.obj(**kwargs)
            except BaseException as exc:
                result.error, result.traceback = exc, exc.__traceback__
        finally:
            _local.events = None
            _local.holds_slot = False
            self.slots.release()
        return result

    def _fixtures(self, item: pytest.Function) -> dict[str, Any]:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        values: dict[str, Any] = {}
        for name in item._fixtureinfo.argnames:
            values[name] = params[name] if name in params else self._fixture(name, item)
        return values

    def _fixture(self, name: str, item: pytest.Item) -> Any:
        state = self.state
        if name == "profile":
            return state.profile
        if name == "http":
            return state.http
        if name == "tokens":
            return state.tokens
        if name == "signin":
            return self._signin()
        if name == "jwks":
            with self._jwks_lock:  # one load, as pytest's session fixture makes one
                if self._jwks_failed:
                    raise RuntimeError("the JWK set could not be loaded")
                try:
                    return state.jwks()
                except Exception:
                    self._jwks_failed = True  # pytest's fixture reports why, in the case's setup
                    raise
        if name == "fake":
            from faker import Faker

            faker = getattr(_local, "faker", None)
            if faker is None:
                faker = _local.faker = Faker()  # one per thread: a Faker is not thread-safe
            faker.seed_instance(f"{state.seed}:{item.nodeid}")  # the plugin's seeding: same values
            return faker
        raise LookupError(name)


def _interleaved(items: list[pytest.Function]) -> list[pytest.Function]:
    """The order in which cases start (pytest reports them in collection order whatever it is):
    one check of each module in turn, so that the first threads do not all wait on the same
    shared thing (the sign-in of the sign-in checks, one shared token) while others could work."""
    by_module: dict[str, list[pytest.Function]] = {}
    for item in items:
        by_module.setdefault(str(item.path), []).append(item)
    queues = list(by_module.values())
    order: list[pytest.Function] = []
    while queues:
        order += [queue.pop(0) for queue in queues]
        queues = [queue for queue in queues if queue]
    return order


def fan_out(fn: Callable[[T], R], items: list[T], emit: Callable[[Exchange], None] | None) -> list[R]:
    """`[fn(x) for x in items]` for a case's independent requests (one per item), several at a
    time when the run has free slots (--concurrency); one after another otherwise, as a loop does.
    Results, and the exchanges and attachments they record, come back in item order; the first
    item (in order) that raised raises, and nothing recorded after it is kept, as in a loop.
    `emit` records an exchange on the calling thread (the HTTP client's `on_exchange`)."""
    schedule = _RUNNING.get("schedule")
    if schedule is None or len(items) < 2:
        return [fn(item) for item in items]
    records: list[list[tuple[str, Any]]] = [[] for _ in items]
    results: list[Any] = [None] * len(items)
    errors: list[BaseException | None] = [None] * len(items)
    order = iter(range(len(items)))
    order_lock = threading.Lock()
    helpers: list[threading.Thread] = []

    def take() -> int | None:
        with order_lock:
            return next(order, None)

    def work(index: int) -> None:
        saved = getattr(_local, "events", None)
        _local.events = records[index]
        try:
            results[index] = fn(items[index])
        except BaseException as exc:
            errors[index] = exc
        finally:
            _local.events = saved

    def helper() -> None:
        _local.holds_slot = True
        try:
            while (index := take()) is not None:
                work(index)
        finally:
            schedule.slots.release()

    def spawn() -> None:  # a helper for each slot free now (no more than the items left)
        while len(helpers) < len(items) - 1 and schedule.slots.acquire(blocking=False):
            thread = threading.Thread(target=helper, name="oauth-fan-out", daemon=True)
            helpers.append(thread)
            thread.start()

    own_slot = not getattr(_local, "holds_slot", False)  # pytest's thread (a case run alone)
    if own_slot:
        schedule.slots.acquire()
    try:
        spawn()
        while (index := take()) is not None:
            work(index)
            spawn()
        for thread in helpers:
            thread.join()
    finally:
        if own_slot:
            schedule.slots.release()
    parent = getattr(_local, "events", None)
    for index in range(len(items)):
        if parent is not None:
            parent.extend(records[index])
        else:
            _replay(records[index], emit, schedule.state.http)
        error = errors[index]
        if error is not None:
            raise error
    return results
