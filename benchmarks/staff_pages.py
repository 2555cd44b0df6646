#!/usr/bin/env python
"""Benchmark: the staff pages on the demo county, PostgreSQL and gunicorn, under locust.

    .venv/bin/python benchmarks/staff_pages.py [--users 50] [--spawn-rate 10] [--seconds 60] [--json]

1. Starts a throw-away PostgreSQL server (initdb in a temporary folder, as the postgres
   user when run as root, like scripts/test.sh) on --pg-port, migrates it and loads the
   demo county (`jiuzhu demo`, --households).
2. Serves the app with the production WSGI server: gunicorn jiuzhu.wsgi -w 4 --threads 2
   --keep-alive 5, JIUZHU_DEBUG=0, JIUZHU_ALLOWED_HOSTS=127.0.0.1 and a fresh secret key.
   Keep-alive is longer than a user's pause between pages: with gunicorn's default of 2 s
   the server sometimes closes an idle connection just as the client sends on it again,
   which a browser retries unseen but locust counts as an error.
3. Checks each page of --pages once; a page that answers 404 (not built yet) is left out
   and named, unless --strict. Then --warm-up requests, so every worker has read the
   parameters and the calendar (as after the first pages of a working day).
4. Runs locust headless: --users township officers (the four demo officers in turn, who
   have no second factor) for --seconds, each opening the work queue, household files,
   searches and applications by weight with --wait seconds (1–3) between pages. The
   statistics start once all users have arrived and signed in (argon2 sign-ins are a
   once-a-day cost, not a page's), unless --include-ramp-up; a failed sign-in still
   shows, as every page after it fails.
5. Prints requests, p50, p95 and errors per page and over all of them, the failures with
   the server's error log, and the load average (other work on the machine skews the
   figures); with --json the last line is {"users", "seconds", "requests", "p50_ms",
   "p95_ms", "errors"}.

Everything it started is stopped and its folder removed on exit, also on Ctrl+C.
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = ROOT / ".venv" / "bin"

#: The pages under test: name, path ({household}, {application}, {q} are filled per user), weight.
PAGES: list[dict[str, Any]] = [
    {"name": "work queue", "path": "/work/", "weight": 3},
    {"name": "household file", "path": "/work/households/{household}/", "weight": 3},
    # A search is posted (an ID number must not sit in the address or the access log).
    {"name": "search", "path": "/registry/search/", "form": {"q": "{q}"}, "weight": 2},
    {"name": "application", "path": "/work/applications/{application}/", "weight": 3},
]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- PostgreSQL -----------------------------------------------------------------------------

def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql, or run scripts/test.sh once)")
    return versions[-1]


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres(folder: Path, port: int) -> Iterator[str]:
    """A server of our own on 127.0.0.1:port with trust authentication; yields its URL."""
    pg_bin = _pg_bin()
    data = folder / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(_as_postgres([str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "-E", "UTF8"]), check=True, stdout=subprocess.DEVNULL)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(folder / "pg.log"), "-w",
                                 "-o", options, "start"]), check=True, stdout=subprocess.DEVNULL)
    try:
        subprocess.run(_as_postgres([str(pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                     "jiuzhu"]), check=True)
        yield f"postgres://postgres@127.0.0.1:{port}/jiuzhu"
    finally:
        subprocess.run(_as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


# -- the app ----------------------------------------------------------------------------------

def _jiuzhu(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([str(VENV / "jiuzhu"), *args], env=env, cwd=ROOT, check=True)


def _demo(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([str(VENV / "jiuzhu"), "demo", *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


#: The production settings, plus a log of server errors with their tracebacks (with debug
#: off Django would only mail them), so a failing page can be told apart from a slow one.
SETTINGS_WITH_ERROR_LOG = """\
from jiuzhu.settings import *  # noqa: F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
"""


@contextmanager
def gunicorn(env: dict[str, str], port: int, folder: Path, workers: int, threads: int, keep_alive: int
             ) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    (folder / "bench_settings.py").write_text(SETTINGS_WITH_ERROR_LOG)
    env = {**env, "DJANGO_SETTINGS_MODULE": "bench_settings",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), str(ROOT), env.get("PYTHONPATH", "")]))}
    with (folder / "gunicorn.log").open("w") as output:
        command = [str(VENV / "gunicorn"), "jiuzhu.wsgi", "-w", str(workers), "--threads", str(threads),
                   "--keep-alive", str(keep_alive), "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/accounts/login/", timeout=5) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError):
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start; its log: {folder / 'gunicorn.log'}\n"
                                     + (folder / "gunicorn.log").read_text()[-3000:])
                time.sleep(0.5)
            yield url
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()


# -- what the users open ----------------------------------------------------------------------

def export_targets(path: Path, seed: int) -> None:
    """Run inside a process with DATABASE_URL set: write each township officer's account and
    the households, applications and search words of their township."""
    import random

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiuzhu.settings")
    django.setup()
    from jiuzhu.accounts.roles import Role
    from jiuzhu.casework.models import Application
    from jiuzhu.demo import demo_accounts
    from jiuzhu.demo.load import COUNTY
    from jiuzhu.registry.models import Household, Person

    rng = random.Random(seed)
    accounts = []
    for account in demo_accounts(COUNTY, seed):
        if account.role != Role.TOWNSHIP_OFFICER:
            continue
        township = account.area_code
        households = list(Household.objects.filter(area__code__startswith=township).values_list("pk", flat=True))
        applying = list(Household.objects.filter(area__code__startswith=township, applications__isnull=False)
                        .distinct().values_list("pk", flat=True))
        persons = list(Person.objects.filter(memberships__household__area__code__startswith=township,
                                             memberships__end__isnull=True).values_list("name", "id_number"))
        picked = rng.sample(persons, min(40, len(persons)))
        words = ([name for name, _number in picked[:20]] + [name[0] for name, _number in picked[20:30]]
                 + [number[:14] for _name, number in picked[30:]])
        accounts.append({
            "username": account.username, "password": account.password,
            "household": applying + rng.sample(households, min(len(applying), len(households))),
            "application": list(Application.objects.filter(area_code__startswith=township)
                                .values_list("pk", flat=True)),
            "q": words,
        })
    path.write_text(json.dumps({"accounts": accounts}, ensure_ascii=False), encoding="utf-8")


def _check_pages(url: str, targets: dict[str, Any], pages: list[dict[str, Any]], warm_up: int) -> dict[str, int]:
    """Sign in as the first officer and open each page once: its HTTP status. Then make
    `warm_up` requests more over different records, eight at a time, so that every
    gunicorn worker has read the parameters, the calendar and its templates before the
    clock runs (as after a morning's first pages)."""
    account = targets["accounts"][0]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{url}/accounts/login/", timeout=30).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode({"username": account["username"], "password": account["password"],
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(f"{url}/accounts/login/", data=form, headers={"Referer": f"{url}/accounts/login/"})
    opener.open(request, timeout=30).read()

    def path_of(page: dict[str, Any], i: int) -> tuple[str, dict[str, str] | None]:
        values = {key: account[key][i % len(account[key])] for key in ("household", "application", "q")}
        path = str(page["path"]).format(household=values["household"], application=values["application"],
                                        q=urllib.parse.quote(str(values["q"])))
        form = {k: str(v).format(q=values["q"]) for k, v in page["form"].items()} if "form" in page else None
        return path, form

    def status(target: tuple[str, dict[str, str] | None]) -> int:
        path, form = target
        request: str | urllib.request.Request = url + path
        if form is not None:
            token = next(c.value for c in jar if c.name == "csrftoken")
            request = urllib.request.Request(url + path, data=urllib.parse.urlencode(
                {**form, "csrfmiddlewaretoken": token}).encode(), headers={"Referer": url + path})
        try:
            with opener.open(request, timeout=60) as response:
                response.read()
                return 302 if "/accounts/login/" in response.url else int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    statuses = {page["name"]: status(path_of(page, 0)) for page in pages}
    working = [page for page in pages if statuses[page["name"]] == 200]
    if working:  # different records take different paths through the code (states, documents, …)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(status, [path_of(working[i % len(working)], i // len(working)) for i in range(warm_up)]))
    return statuses


# -- locust ---------------------------------------------------------------------------------

def run_locust(url: str, targets_file: Path, folder: Path, users: int, spawn_rate: int, seconds: int,
               include_ramp_up: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Locust's final statistics per request name, and its failures as "count× name: error"."""
    stats = folder / "locust.json"
    env = {**os.environ, "JIUZHU_BENCH_TARGETS": str(targets_file)}
    command = [str(VENV / "locust"), "-f", str(HERE / "locustfile_staff.py"), "--headless", "-u", str(users),
               "-r", str(spawn_rate), "-t", f"{seconds}s", "--host", url, "--only-summary",
               "--json-file", str(stats.with_suffix("")), "--csv", str(folder / "locust"),
               "--stop-timeout", "10", "--loglevel", "WARNING"]
    if not include_ramp_up:
        command.append("--reset-stats")
    subprocess.run(command, env=env, cwd=ROOT, check=False, stdout=subprocess.DEVNULL)
    if not stats.exists():  # locust adds ".json" to the name it is given
        raise SystemExit("locust wrote no statistics")
    result: list[dict[str, Any]] = json.loads(stats.read_text())
    failures = []
    failures_file = folder / "locust_failures.csv"
    if failures_file.exists():
        for row in csv.DictReader(failures_file.open(encoding="utf-8")):
            failures.append(f"{row['Occurrences']}× {row['Name']}: {row['Error']}")
    return result, failures


def summarise(entries: list[dict[str, Any]], users: int, seconds: int) -> tuple[dict[str, Any], list[str]]:
    """Requests, p50, p95 and errors over the pages (locust's own percentile rule); one
    line per page for the report."""
    from locust.stats import calculate_response_time_percentile

    pages = [e for e in entries if e["name"] != "login"]
    times: dict[int, int] = {}
    for entry in pages:
        for ms, count in entry["response_times"].items():
            times[int(float(ms))] = times.get(int(float(ms)), 0) + count
    requests = sum(e["num_requests"] for e in pages)
    errors = sum(e["num_failures"] for e in entries)

    def pct(histogram: dict[int, int], n: int, p: float) -> int:
        return calculate_response_time_percentile(histogram, n, p) if n else 0

    lines = []
    for entry in sorted(pages, key=lambda e: e["name"]):
        histogram = {int(float(k)): v for k, v in entry["response_times"].items()}
        n = entry["num_requests"]
        lines.append(f"  {entry['name']:<16} {n:>6} requests  p50 {pct(histogram, n, 0.5):>5} ms  "
                     f"p95 {pct(histogram, n, 0.95):>5} ms  errors {entry['num_failures']}")
    figures = {"users": users, "seconds": seconds, "requests": requests, "p50_ms": pct(times, requests, 0.5),
               "p95_ms": pct(times, requests, 0.95), "errors": errors}
    return figures, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep-alive", type=int, default=5,
                        help="gunicorn's keep-alive seconds; longer than --wait's maximum (see above)")
    parser.add_argument("--pg-port", type=int, default=55433)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pages", default=",".join(p["name"] for p in PAGES),
                        help="comma-separated page names to include (default: all)")
    parser.add_argument("--wait", default="1,3", help="seconds between a user's pages, min,max (1,3)")
    parser.add_argument("--warm-up", type=int, default=200, help="requests before the run, to warm every worker")
    parser.add_argument("--include-ramp-up", action="store_true",
                        help="count the sign-ins and the first pages while users are still arriving")
    parser.add_argument("--strict", action="store_true", help="fail instead of leaving out a page that answers 404")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    parser.add_argument("--export-targets", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.export_targets:
        export_targets(args.export_targets, args.seed)
        return 0

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clean-up below runs
    wanted = {name.strip() for name in args.pages.split(",")}
    pages = [p for p in PAGES if p["name"] in wanted]
    with ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="jiuzhu-bench-"))
        stack.callback(shutil.rmtree, folder, ignore_errors=True)
        database = stack.enter_context(postgres(folder, args.pg_port))
        env = {**os.environ, "DATABASE_URL": database, "JIUZHU_DEBUG": "0", "JIUZHU_ALLOWED_HOSTS": "127.0.0.1",
               "JIUZHU_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_SETTINGS_MODULE": "jiuzhu.settings"}
        log(f"PostgreSQL on port {args.pg_port}: migrating and loading the demo county ({args.households} households)")
        _jiuzhu(["migrate", "--no-input", "-v", "0"], env)
        started = time.perf_counter()
        _demo(["--households", str(args.households), "--seed", str(args.seed)], env)
        load_seconds = time.perf_counter() - started
        log(f"demo county loaded into PostgreSQL in {load_seconds:.1f} s")
        targets_file = folder / "targets.json"
        subprocess.run([str(VENV / "python"), str(Path(__file__).resolve()), "--export-targets", str(targets_file),
                        "--seed", str(args.seed)], env=env, cwd=ROOT, check=True)
        targets = json.loads(targets_file.read_text(encoding="utf-8"))

        url = stack.enter_context(gunicorn(env, args.port, folder, args.workers, args.threads, args.keep_alive))
        statuses = _check_pages(url, targets, pages, args.warm_up)
        missing = [p["name"] for p in pages if statuses.get(p["name"]) == 404]
        for name, status in statuses.items():
            log(f"  {name}: HTTP {status}{'  (not built yet: left out)' if status == 404 else ''}")
        if missing and args.strict:
            log("some pages answer 404: " + ", ".join(missing))
            return 1
        pages = [p for p in pages if p["name"] not in missing]
        if not pages:
            log("no page to measure")
            return 1
        targets["pages"] = pages
        targets["wait"] = [float(x) for x in args.wait.split(",")]
        targets_file.write_text(json.dumps(targets, ensure_ascii=False), encoding="utf-8")

        load_before = os.getloadavg()[0]
        log(f"locust: {args.users} users, {args.spawn_rate}/s, {args.seconds} s against gunicorn "
            f"-w {args.workers} --threads {args.threads} (load average {load_before:.1f})")
        entries, failures = run_locust(url, targets_file, folder, args.users, args.spawn_rate, args.seconds,
                                       args.include_ramp_up)
        figures, lines = summarise(entries, args.users, args.seconds)
        if failures:
            log("failures:\n  " + "\n  ".join(failures))
            errors = (folder / "gunicorn.log").read_text(errors="replace").strip()
            if errors:
                log("the server's log (last 4,000 characters):\n" + errors[-4000:])

    print(f"staff pages on the demo county ({args.households} households, PostgreSQL, gunicorn -w {args.workers} "
          f"--threads {args.threads} --keep-alive {args.keep_alive}); demo load {load_seconds:.1f} s; load average "
          f"{load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    if missing:
        print("  left out (404, not built yet): " + ", ".join(missing))
    for line in lines:
        print(line)
    print(f"  all pages        {figures['requests']:>6} requests  p50 {figures['p50_ms']:>5} ms  "
          f"p95 {figures['p95_ms']:>5} ms  errors {figures['errors']}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
