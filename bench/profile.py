"""Where a gunicorn worker's Python time goes under load: py-spy samples of the real server.

    .venv/bin/pip install py-spy                      # the sampler (bench only, not a dependency)
    .venv/bin/python -m bench.profile [--kind write|summary|budget-usage] [--users 1]
                                      [--clients 16] [--seconds 20] [--out bench-profile]

bench/write_path.py's data and requests (one user and 4 budgeted categories by default, the hot
scenario; --users 50 --clients 32 for the spread one), served by gunicorn with bin/serve's
defaults in production mode, driven by wrk. While wrk runs, `py-spy record --gil` samples every
worker: only the thread holding the GIL, so a sample is Python (or C called from Python) running,
not a thread waiting for PostgreSQL or the network. Printed: the share of samples per package
(inclusive: a sample counts for every package on its stack; self: only for the innermost frame's),
and the functions with the most self and inclusive samples. The folded stacks are kept in --out
(one file per worker) for a flame graph (https://www.speedscope.app reads them).

This shows proportions, not costs: the sampler slows the process a little and wrk shares the
cores. For CPU per request use bench/write_path.py.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from . import cpu, wrk
from .common import bench_database, machine, start_server
from .write_path import READS, _prepare, expense_lua, read_lua

# "function (path/to/file.py:123)" as py-spy writes a frame in its folded output.
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def package_of(path: str) -> str:
    """The top-level package (or standard-library module) a source file belongs to."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/expense_api/" in path or path.startswith("expense_api/"):
        return "expense_api"
    match = re.search(r"lib/python3\.\d+/([^/]+)", path)
    if match:
        return "stdlib:" + match.group(1).removesuffix(".py")
    return path.rsplit("/", 1)[-1]


def parse_folded(lines) -> list[tuple[list[tuple[str, str]], int]]:
    """[( [(function, file), ... outermost first], samples ), ...]"""
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        text, _, count = line.rpartition(" ")
        frames = []
        for raw in text.split(";"):
            match = FRAME.match(raw)
            if match:  # the first element names the process/thread; skip what is not a frame
                frames.append((match.group("function"), match.group("file")))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def tally(stacks) -> dict[str, Counter]:
    packages_inclusive, packages_self = Counter(), Counter()
    functions_inclusive, functions_self = Counter(), Counter()
    for frames, count in stacks:
        seen_packages = {package_of(file) for _, file in frames}
        for package in seen_packages:
            packages_inclusive[package] += count
        seen_functions = {f"{name} ({_short(file)})" for name, file in frames}
        for function in seen_functions:
            functions_inclusive[function] += count
        name, file = frames[-1]
        packages_self[package_of(file)] += count
        functions_self[f"{name} ({_short(file)})"] += count
    return {
        "packages_inclusive": packages_inclusive,
        "packages_self": packages_self,
        "functions_inclusive": functions_inclusive,
        "functions_self": functions_self,
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _print_top(title: str, counter: Counter, total: int, limit: int) -> None:
    print(f"\n{title}")
    for name, count in counter.most_common(limit):
        print(f"  {100 * count / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kind", default="write", choices=("write", *READS))
    parser.add_argument("--users", type=int, default=1)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--categories", type=int, default=4)
    parser.add_argument("--existing", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--out", default="bench-profile", help="folder for the folded stacks")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--native", action="store_true", help="include C frames (psycopg's, libpq's, ...)"
    )
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        sys.exit("py-spy is not installed: .venv/bin/pip install py-spy")
    if not wrk.available():
        sys.exit("wrk is not on PATH (Debian: apt-get install wrk)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with bench_database() as url:
        print(machine(url))
        tokens = _prepare(url, args.users, args.existing)
        script = (
            expense_lua(tokens, args.categories)
            if args.kind == "write"
            else read_lua(tokens, READS[args.kind])
        )
        server = start_server(url)
        try:
            wrk.run(server.base, script, connections=args.clients, seconds=3)  # warm-up
            workers = sorted(cpu.snapshot(server.process.pid, None).workers)
            samplers = [
                subprocess.Popen(
                    [spy, "record", "--pid", str(pid), "--gil", "--rate", str(args.rate),
                     "--duration", str(args.seconds), "--format", "raw",
                     "--output", str(out / f"{args.kind}-{pid}.folded"),
                     # native frames need the process paused while it is sampled
                     *(["--native"] if args.native else ["--nonblocking"])],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                for pid in workers
            ]  # fmt: skip
            measured = wrk.run(server.base, script, connections=args.clients, seconds=args.seconds)
            for sampler in samplers:
                _, error = sampler.communicate(timeout=args.seconds + 60)
                if sampler.returncode != 0:
                    sys.exit(f"py-spy failed: {error}")
        finally:
            server.stop()
    stacks = []
    for pid in workers:
        with open(out / f"{args.kind}-{pid}.folded") as handle:
            stacks.extend(parse_folded(handle))
    total = sum(count for _, count in stacks)
    print(
        f"{args.kind}: {measured.rate:.0f} req/s, {measured.errors} errors under py-spy; "
        f"{total} samples holding the GIL in {len(workers)} workers"
    )
    figures = tally(stacks)
    _print_top("packages, inclusive", figures["packages_inclusive"], total, 25)
    _print_top("packages, self", figures["packages_self"], total, 25)
    _print_top("functions, self", figures["functions_self"], total, args.top)
    _print_top("functions, inclusive", figures["functions_inclusive"], total, args.top)


if __name__ == "__main__":
    main()
